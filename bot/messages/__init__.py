"""Every word studiobot shows a person, one module per domain (render, workstations, budgets); the shared bits here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from backend.render.estimates import duration, money

if TYPE_CHECKING:
    from backend.events import Event

__all__ = [
    "Blocks",
    "context",
    "dollars",
    "duration",
    "error_message",
    "message_text",
    "money",
    "percent_of",
    "plain_text",
    "section",
    "who",
]

Blocks = list[dict[str, Any]]


def section(text: str) -> dict[str, Any]:
    """A Block Kit section of mrkdwn text."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def plain_text(text: str) -> dict[str, Any]:
    """A Block Kit plain-text object (labels, titles, button texts)."""
    return {"type": "plain_text", "text": text}


def context(text: str) -> dict[str, Any]:
    """A Block Kit context block: small grey mrkdwn text."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def error_message(text: str) -> tuple[str, Blocks]:
    """A mistake, said plainly (sent ephemeral)."""
    return text, [section(f"⚠️ {text}")]


def who(by: str) -> str:
    """A Slack user as a mention; anyone else (AWS Budgets, the CLI's operator) by name."""
    return f"<@{by}>" if by.startswith(("U", "W")) and by.isalnum() else by


def dollars(amount: float) -> str:
    """`$1,234.56`."""
    return f"${amount:,.2f}"


def percent_of(part: float, whole: float) -> str:
    """`83 %`, or empty when there is no whole to measure against."""
    return f"{100 * part / whole:.0f} %" if whole > 0 else ""


def message_text(event: Event) -> str | None:
    """The message a channel gets for an event, or None for events nobody needs to read."""
    from bot.messages import budgets, render, workstations  # they import this module's helpers

    if isinstance(event, render.EVENTS):
        return render.event_text(event)
    if isinstance(event, workstations.EVENTS):
        return workstations.event_text(event)
    if isinstance(event, budgets.EVENTS):
        return budgets.event_text(event)
    return None  # an UnknownEvent, or one nobody needs to read
