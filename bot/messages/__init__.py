"""Every word studiobot shows a person, one module per domain (render, workstations, budgets); the shared bits here.

Text a person (or AWS) wrote reaches mrkdwn only through `bot.messages.text` (escaped, cut to fit); a section or
context is cut to Slack's limit whatever it is given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from backend.render.estimates import duration, money
from bot.messages.text import MESSAGE_TEXT, SECTION_TEXT, cut, sentence, slack_person

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
    "said",
    "section",
    "who",
]

Blocks = list[dict[str, Any]]


def section(text: str) -> dict[str, Any]:
    """A Block Kit section of mrkdwn text (escaped already), cut to Slack's limit."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": cut(text, SECTION_TEXT)}}


def plain_text(text: str) -> dict[str, Any]:
    """A Block Kit plain-text object (labels, titles, button texts)."""
    return {"type": "plain_text", "text": text}


def context(text: str) -> dict[str, Any]:
    """A Block Kit context block: small grey mrkdwn text (escaped already), cut to Slack's limit."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": cut(text, SECTION_TEXT)}]}


def error_message(text: str) -> tuple[str, Blocks]:
    """A mistake or a refusal our backend worded, said plainly (sent ephemeral): the words it quotes escaped."""
    said = sentence(text, MESSAGE_TEXT) if text.strip() else "That did not work, and no reason was given."
    return said, [section(f"⚠️ {said}")]


def said(text: str) -> tuple[str, Blocks]:
    """A sentence of ours around words people typed, as a message of one section (no ⚠️: not a mistake)."""
    text = sentence(text, MESSAGE_TEXT)
    return text, [section(text)]


def who(by: str) -> str:
    """A Slack user as a mention; anyone else (AWS Budgets, the CLI's operator, an EC2 tag) by name, escaped."""
    return slack_person(by)


def dollars(amount: float) -> str:
    """`$1,234.56`."""
    return f"${amount:,.2f}"


def percent_of(part: float, whole: float) -> str:
    """`83 %`, or empty when there is no whole to measure against."""
    return f"{100 * part / whole:.0f} %" if whole > 0 else ""


def message_text(event: Event) -> str | None:
    """The message a channel gets for an event, or None for events nobody needs to read."""
    from bot.messages import budgets, nodes, render, workstations  # they import this module's helpers

    if isinstance(event, render.EVENTS):
        return cut(render.event_text(event), MESSAGE_TEXT)
    if isinstance(event, workstations.EVENTS):
        return cut(workstations.event_text(event), MESSAGE_TEXT)
    if isinstance(event, nodes.EVENTS):
        return cut(nodes.event_text(event), MESSAGE_TEXT)
    if isinstance(event, budgets.EVENTS):
        return cut(budgets.event_text(event), MESSAGE_TEXT)
    return None  # an UnknownEvent, or one nobody needs to read
