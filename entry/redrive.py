"""Undelivered-notices redrive entry point (`entry.redrive.handler`), every 5 minutes: notices Slack would
not take (the notifier's on-failure records) are told again with growing waits for two days."""

from __future__ import annotations

from typing import Any

import boto3

from bot.undelivered import redrive
from entry import wiring


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    """Tell again the undelivered notices that are due; how many were posted, kept and dropped."""
    budget_s = context.get_remaining_time_in_millis() / 1000 - 120 if context else 600.0
    queue_url = wiring.from_env().settings.undelivered_notices_url
    done = redrive(boto3.client("sqs"), queue_url, wiring.slack_notifier(), budget_s=budget_s)
    return {"posted": done.posted, "kept": done.kept, "dropped": done.dropped}
