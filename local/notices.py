"""The local stack's notifier: each studio event from the notifications queue, told once in the stack log and
handed to the Slack notifier when there is one. A notice Slack would not take is tried again with a growing wait
(20 s, 40 s, 80 s, 160 s) and given up after `TRIES`, said once in the log — as Lambda's async retries and the
notifier's on-failure destination do on AWS."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import boto3

from backend.events import JobCompleted, parse_event
from backend.wiring import Services
from bot.messages import message_text
from bot.messages.render_completion import failure_lines
from bot.messages.text import plain

TRIES = 5
FIRST_WAIT_S = 20


class StackNotifier:
    """Handles one notifications-queue message at a time; the caller receives and deletes."""

    def __init__(self, services: Services, slack_notifier: Any | None, say: Callable[[str], None]) -> None:
        self.services = services
        self.slack_notifier = slack_notifier
        self.say = say

    def handle(self, body: str, tries: int) -> int | None:
        """Tell the event; None when the message is done with (delete it), else seconds to wait before the next
        try (`tries`: how often it was delivered, this time included)."""
        event = parse_event(body)
        announcer = self.services.announcer
        text = message_text(event)
        if text and announcer.first_telling(event, "log"):
            if isinstance(event, JobCompleted) and event.failed:
                text += failure_lines(announcer.failures(event.job_id))
            self.say(f"#renders ▸ {plain(text)}")
        if self.slack_notifier is None:
            return None
        try:
            self.slack_notifier.handle(event)
        except Exception as error:
            if tries >= TRIES:
                self.say(
                    f"Slack notifier: gave up on {event.type} after {tries} tries: {type(error).__name__}: {error}"
                )
                return None
            wait_s = FIRST_WAIT_S * 2 ** (tries - 1)
            self.say(f"Slack notifier: {type(error).__name__}: {error} (trying again in {wait_s} s)")
            return wait_s
        return None


def notify_loop(
    queue_url: str, notifier: StackNotifier, stopping: threading.Event, say: Callable[[str], None]
) -> None:
    """Take the notifications queue's messages until `stopping`: each told, then deleted or left for its retry."""
    sqs = boto3.client("sqs")
    while not stopping.is_set():
        try:
            response = sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=1,
                AttributeNames=["ApproximateReceiveCount"],
            )
        except Exception as error:  # the server is going away during shutdown
            if not stopping.is_set():
                say(f"notifier: {error}")
            continue
        for message in response.get("Messages", []):
            tries = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
            wait_s = notifier.handle(message["Body"], tries)
            receipt = message["ReceiptHandle"]
            if wait_s is None:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=receipt)
            else:  # left on the queue, delivered again after the wait
                sqs.change_message_visibility(
                    QueueUrl=queue_url, ReceiptHandle=receipt, VisibilityTimeout=wait_s
                )
