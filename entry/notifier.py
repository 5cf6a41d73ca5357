"""Notifier Lambda entry point (`entry.notifier.handler`): SNS studio events in, Slack messages out."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from backend.event_wire import MalformedEvent, UnknownEvent, parse_event
from entry import wiring

logger = Logger(service="studiobot-notifier")


def handler(event: dict[str, Any], context: Any) -> None:
    """Every studio event SNS delivers, to Slack."""
    # A failure raises, so Lambda retries the delivery; every Slack message is claimed once, so retries are safe.
    # A message no retry can read is logged once with its id and dropped: raising would only repeat it.
    for record in event.get("Records", []):
        sns = record.get("Sns", {})
        studio_event = parse_event(sns.get("Message", ""))
        if isinstance(studio_event, MalformedEvent | UnknownEvent):
            logger.error(
                "studio event cannot be read: dropped",
                message_id=sns.get("MessageId"),
                event=studio_event.to_dict(),
            )
            continue
        wiring.slack_notifier().handle(studio_event)
