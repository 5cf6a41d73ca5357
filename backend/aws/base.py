"""The one base of every AWS adapter: a boto3 client made on first use, and `ClientError` → `AwsError` by code.

A client is never built at import time (moto's warning: one built before the mock leaks to real AWS), and an
error is told apart by its code, never by its message text.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any, ClassVar

import boto3
from botocore.exceptions import ClientError

from backend.errors import AwsError

_BUSY = "AWS is busy right now: try again in a minute"
_DENIED = "studiobot's role may not do that: ask an admin to check its IAM policy"
# What a person can do about the errors every service may answer, in each service's spelling.
COMMON_REASONS: Mapping[str, str] = {
    "ThrottlingException": _BUSY,
    "Throttling": _BUSY,  # SNS, SQS
    "RequestLimitExceeded": _BUSY,  # EC2, DynamoDB
    "SlowDown": _BUSY,  # S3
    "ProvisionedThroughputExceededException": _BUSY,  # DynamoDB
    "AccessDenied": _DENIED,
    "AccessDeniedException": _DENIED,
    "UnauthorizedOperation": _DENIED,  # EC2
}


def error_code(error: ClientError) -> str:
    """The error's code (`ConditionalCheckFailedException`, `NoSuchKey`…); empty when AWS gave none."""
    return str(error.response.get("Error", {}).get("Code", ""))


class AwsAdapter:
    """Holds one lazily created boto3 client and turns its `ClientError`s into `AwsError`s with a sentence."""

    service: ClassVar[str]  # boto3's name for the service: "s3", "dynamodb"…
    label: ClassVar[str]  # how a sentence names it: "S3", "DynamoDB"…
    reasons: ClassVar[Mapping[str, str]] = {}  # error code → what the person can do about it

    def __init__(self, client: Any | None = None) -> None:
        self._client = client

    @cached_property
    def client(self) -> Any:
        """The client handed in, else one made now; kept, so later uses call nothing."""
        if self._client is None:
            self._client = boto3.client(self.service)
        return self._client

    def aws_error(self, error: ClientError, doing: str) -> AwsError:
        """`Could not {doing}: {why}.` with the reason this adapter (or every adapter) knows for the code."""
        code = error_code(error)
        reason = (
            self.reasons.get(code)
            or COMMON_REASONS.get(code)
            or (f"{self.label} said {code}" if code else f"{self.label} gave no reason")
        )
        return AwsError(f"Could not {doing}: {reason}.", code)
