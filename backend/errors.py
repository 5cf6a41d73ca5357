"""Error types the backend raises; their messages are written for the person who typed the command."""

from __future__ import annotations


class StudiobotError(Exception):
    """Base of every error this project raises on purpose."""


class ValidationError(StudiobotError):
    """The request is wrong; the message says what was wrong and what would work."""


class NotFoundError(StudiobotError):
    """Something the request names does not exist."""


class ConflictError(StudiobotError):
    """A state transition was refused because the current state does not allow it."""


class AwsError(StudiobotError):
    """An AWS call failed for a reason the user cannot fix by changing the request."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class PermissionDenied(StudiobotError):
    """The person may not do this; the message says who may."""
