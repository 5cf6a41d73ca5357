"""Notifier Lambda entry point (`bot.handlers.notifier.handler`): SNS studio events in, Slack messages out."""

from __future__ import annotations

from functools import cache
from typing import Any

from backend.config import Settings, slack_credentials
from backend.events import parse_event
from backend.wiring import Services
from bot.app import web_client
from bot.notifier import SlackNotifier


@cache
def notifier() -> SlackNotifier:
    settings = Settings.from_env()
    return SlackNotifier(web_client(settings, slack_credentials().bot_token), Services(settings))


def handler(event: dict[str, Any], context: Any) -> None:
    # A failure raises, so Lambda retries the delivery; every Slack message is claimed once, so retries are safe.
    for record in event.get("Records", []):
        notifier().handle(parse_event(record["Sns"]["Message"]))
