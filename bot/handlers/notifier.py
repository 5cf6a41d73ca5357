"""Notifier Lambda entry point (`bot.handlers.notifier.handler`): SNS studio events in, Slack messages out."""

from __future__ import annotations

from functools import cache
from typing import Any

from backend import wiring
from backend.config import slack_credentials
from backend.events import parse_event
from bot.app import web_client
from bot.notifier import SlackNotifier


@cache
def notifier() -> SlackNotifier:
    """The notifier of this container: the composition root's services and a Slack client with the bot token."""
    services = wiring.from_env()
    return SlackNotifier(web_client(services.settings, slack_credentials().bot_token), services)


def handler(event: dict[str, Any], context: Any) -> None:
    """Every studio event SNS delivers, to Slack."""
    # A failure raises, so Lambda retries the delivery; every Slack message is claimed once, so retries are safe.
    for record in event.get("Records", []):
        notifier().handle(parse_event(record["Sns"]["Message"]))
