"""The local stack's notifier: each studio event from the notifications queue, told once in the stack log and
handed to the Slack notifier when there is one, several at a time (each message claimed once).

A notice Slack will not take (down, 5xx, refused) stays on the queue and is tried again with growing waits (20 s,
40 s, … up to an hour) for `KEEP_FOR_S` (two days), said once in the log; the AWS stack's redrive of its undelivered
notices does the same. A message nobody can read (not JSON, not an event, an unknown type, fields missing or of the
wrong type) is said once with its id and moved to the queue's dead-letter queue, and the loop carries on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from enum import Enum
from typing import Any

import boto3

from backend.event_wire import MalformedEvent, UnknownEvent, parse_event
from backend.events import JobCompleted
from bot.messages import message_text
from bot.messages.job_facts import facts_text
from bot.messages.render_completion import failure_lines
from bot.messages.text import plain
from bot.undelivered import KEEP_FOR_S, TRIES_FOR_OTHER_ERRORS, keep_trying, retry_wait, slack_unavailable
from entry.wiring import Services

FIRST_WAIT_S = 20
WORKERS = 8  # notices told at once: a slow or rate-limited one never holds up the others
CLAIM_S = 900  # a received notice stays hidden this long while it is told (a 429's wait included)


class Told(Enum):
    """What became of a message that needs no retry: told (delete it) or set aside (dead-letter it, then delete)."""

    DONE = "done"
    SET_ASIDE = "set aside"


class StackNotifier:
    """Handles one notifications-queue message; the caller receives, deletes, retries or sets aside."""

    def __init__(self, services: Services, slack_notifier: Any | None, say: Callable[[str], None]) -> None:
        self.services = services
        self.slack_notifier = slack_notifier
        self.say = say

    def handle(self, body: str, tries: int, message_id: str = "") -> Told | int:
        """Tell the event; `Told` when the message is done with, else seconds to wait before the next try
        (`tries`: how often it was delivered, this time included)."""
        event = parse_event(body)
        if isinstance(event, MalformedEvent | UnknownEvent):
            why = (
                event.reason
                if isinstance(event, MalformedEvent)
                else f"an event type unknown here ({event.name})"
            )
            self.say(
                f"notifier: message {message_id or '?'} cannot be read: {why}; set aside in the dead letters"
            )
            return Told.SET_ASIDE
        try:
            announcer = self.services.announcer
            text = message_text(event)
            if text and announcer.first_telling(event, "log"):
                if isinstance(event, JobCompleted) and event.failed:
                    text += failure_lines(announcer.failures(event.job_id))
                if isinstance(event, JobCompleted):  # the facts the card and the thread say, said here too
                    text += facts_text(self.services.jobs.get(event.job_id))
                self.say(f"#renders ▸ {plain(text)}")
            if self.slack_notifier is not None:
                self.slack_notifier.handle(event)
        except Exception as error:
            return self._failed(event.type, message_id, tries, error)
        if tries > 1 and self.slack_notifier is not None:
            self.say(f"Slack notifier: {event.type} {message_id} posted at try {tries}")
        return Told.DONE

    def _failed(self, event_type: str, message_id: str, tries: int, error: Exception) -> Told | int:
        """Slack not taking it: kept for days with growing waits. Anything else: a few tries, then set aside."""
        what = f"{event_type} {message_id}".strip()
        reason = f"{type(error).__name__}: {str(error)[:300]}"
        if slack_unavailable(error):
            if not keep_trying(tries, FIRST_WAIT_S):
                self.say(
                    f"Slack notifier: gave up on {what} after {tries} tries over {KEEP_FOR_S // 3600} h: {reason}"
                )
                return Told.SET_ASIDE
            if tries == 1:
                self.say(
                    f"Slack notifier: Slack did not take {what} ({reason}): kept, trying again with growing waits "
                    f"for up to {KEEP_FOR_S // 3600} h"
                )
            return retry_wait(tries, FIRST_WAIT_S)
        if tries >= TRIES_FOR_OTHER_ERRORS:
            self.say(
                f"Slack notifier: gave up on {what} after {tries} tries ({reason}); set aside in the dead letters"
            )
            return Told.SET_ASIDE
        if tries == 1:
            self.say(f"Slack notifier: {what} failed ({reason}); trying again")
        return retry_wait(tries, FIRST_WAIT_S)


def dead_letter_queue_url(sqs: Any, queue_url: str) -> str:
    """The notifications queue's dead-letter queue (`<name>-dlq`), made if it is not there yet."""
    name = queue_url.rstrip("/").rsplit("/", 1)[-1]
    return str(
        sqs.create_queue(QueueName=f"{name}-dlq", Attributes={"MessageRetentionPeriod": "1209600"})[
            "QueueUrl"
        ]
    )


def notify_loop(
    queue_url: str,
    notifier: StackNotifier,
    stopping: threading.Event,
    say: Callable[[str], None],
    workers: int = WORKERS,
) -> None:
    """Take the notifications queue's messages until `stopping`, telling up to `workers` at once."""
    sqs = boto3.client("sqs")
    dead_letters = dead_letter_queue_url(sqs, queue_url)
    in_hand: set[str] = set()
    lock = threading.Lock()

    def tell(message: dict[str, Any]) -> None:
        try:
            _tell_one(sqs, queue_url, dead_letters, notifier, message)
        except Exception as error:  # the server is going away during shutdown; else redelivered after CLAIM_S
            if not stopping.is_set():
                say(f"notifier: {type(error).__name__}: {error}")
        finally:
            with lock:
                in_hand.discard(message["MessageId"])

    with ThreadPoolExecutor(workers, thread_name_prefix="notice") as pool:
        while not stopping.is_set():
            with lock:
                free = workers - len(in_hand)
            if free <= 0:
                stopping.wait(0.05)
                continue
            try:
                response = sqs.receive_message(
                    QueueUrl=queue_url,
                    MaxNumberOfMessages=min(10, free),
                    WaitTimeSeconds=1,
                    VisibilityTimeout=CLAIM_S,
                    AttributeNames=["ApproximateReceiveCount"],
                )
            except Exception as error:  # the server is going away during shutdown
                if not stopping.is_set():
                    say(f"notifier: {error}")
                    stopping.wait(1.0)
                continue
            for message in response.get("Messages", []):
                with lock:
                    if message["MessageId"] in in_hand:  # still being told: this copy is not a second claim
                        continue
                    in_hand.add(message["MessageId"])
                pool.submit(tell, message)


def _tell_one(
    sqs: Any, queue_url: str, dead_letters: str, notifier: StackNotifier, message: dict[str, Any]
) -> None:
    """Tell one message, then delete it, dead-letter it, or leave it hidden for its next try."""
    tries = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
    outcome = notifier.handle(message["Body"], tries, message["MessageId"])
    receipt = message["ReceiptHandle"]
    if outcome is Told.SET_ASIDE:  # kept, not lost: first in the dead letters, then off this queue
        sqs.send_message(QueueUrl=dead_letters, MessageBody=message["Body"])
    if isinstance(outcome, Told):
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=receipt)
    else:  # left on the queue, delivered again after the wait
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=receipt, VisibilityTimeout=outcome)
