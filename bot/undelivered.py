"""Notices Slack would not take: which failures are Slack's (kept and tried again), and the growing waits between
tries for at least a day — one policy for the local stack's notifier and the AWS redrive of undelivered notices."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aws_lambda_powertools import Logger
from slack_sdk.errors import SlackApiError, SlackClientError

from backend.event_wire import MalformedEvent, UnknownEvent, parse_event
from backend.events import Event

logger = Logger(service="studiobot-notifier")

KEEP_FOR_S = 48 * 3600  # a notice Slack will not take is tried again this long (at least a day, as promised)
LONGEST_WAIT_S = 3600  # waits grow to an hour between tries, never longer: a returning Slack hears soon
FIRST_WAIT_AWS_S = 300  # on AWS the redrive runs every 5 minutes, after Lambda's own two retries
TRIES_FOR_OTHER_ERRORS = 5  # a notice failing for another reason (ours) is tried this often, then set aside
# Slack's own answers meaning "not now" rather than "never": the same notice will be taken later.
TRANSIENT_CODES = frozenset(
    {"ratelimited", "service_unavailable", "fatal_error", "internal_error", "request_timeout"}
)


def slack_unavailable(error: BaseException) -> bool:
    """Whether a failure is Slack not taking messages now (down, refusing, 5xx, 429) rather than our mistake."""
    if isinstance(error, OSError):  # refused, reset, timed out, DNS: urllib's URLError is one
        return True
    if isinstance(error, SlackApiError):
        status = getattr(error.response, "status_code", 200)
        code = error.response.get("error") if hasattr(error.response, "get") else None
        return status == 429 or status >= 500 or code in TRANSIENT_CODES
    return isinstance(error, SlackClientError) and "timed out" in str(error).lower()


def retry_wait(tries: int, first_wait_s: int) -> int:
    """Seconds before the next try after `tries` failed ones: doubling from `first_wait_s`, at most an hour."""
    return int(min(first_wait_s * 2 ** min(max(tries, 1) - 1, 20), LONGEST_WAIT_S))


def kept_for(tries: int, first_wait_s: int) -> int:
    """How long a notice has been kept after `tries` failed tries (the sum of the waits between them)."""
    return sum(retry_wait(n, first_wait_s) for n in range(1, tries))


def keep_trying(tries: int, first_wait_s: int) -> bool:
    """Whether a notice Slack did not take on its `tries`th try is still within `KEEP_FOR_S`."""
    return kept_for(tries + 1, first_wait_s) < KEEP_FOR_S


def duration(seconds: float) -> str:
    """`3 min`, `2 h 5 min`: how late a notice came, in words."""
    minutes = max(1, round(seconds / 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


class NoticeHandler(Protocol):
    """What tells a studio event in Slack (`bot.notifier.SlackNotifier`)."""

    def handle(self, event: Event) -> None: ...


@dataclass
class Redriven:
    """What one run of the redrive did with the undelivered notices it found due."""

    posted: int = 0
    kept: int = 0
    dropped: int = 0


def redrive(
    sqs: Any,
    queue_url: str,
    notifier: NoticeHandler,
    first_wait_s: int = FIRST_WAIT_AWS_S,
    budget_s: float = 600.0,
    clock: Callable[[], float] = time.monotonic,
) -> Redriven:
    """Tell again each due notice of the undelivered queue (Lambda's on-failure records): posted ones are deleted,
    ones Slack still will not take hidden for a growing wait until `KEEP_FOR_S`, unreadable ones logged and dropped."""
    done = Redriven()
    hidden: dict[str, int] = {}  # one try per run: a notice hidden for a short wait may come back within it
    deadline = clock() + budget_s
    while clock() < deadline:
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=900,
            AttributeNames=["ApproximateReceiveCount"],
        ).get("Messages", [])
        if all(message["MessageId"] in hidden for message in messages):  # none left to try (or none at all)
            _hide_again(sqs, queue_url, messages, hidden)
            return done
        for message in messages:
            wait_s = hidden.get(message["MessageId"])
            if wait_s is None:
                wait_s = _tell_again(message, notifier, first_wait_s, done)
            receipt = message["ReceiptHandle"]
            if wait_s is None:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=receipt)
            else:
                hidden[message["MessageId"]] = wait_s
                sqs.change_message_visibility(
                    QueueUrl=queue_url, ReceiptHandle=receipt, VisibilityTimeout=wait_s
                )
    return done


def _hide_again(sqs: Any, queue_url: str, messages: list[dict[str, Any]], hidden: dict[str, int]) -> None:
    for message in messages:
        sqs.change_message_visibility(
            QueueUrl=queue_url,
            ReceiptHandle=message["ReceiptHandle"],
            VisibilityTimeout=hidden[message["MessageId"]],
        )


def _tell_again(
    message: dict[str, Any], notifier: NoticeHandler, first_wait_s: int, done: Redriven
) -> int | None:
    """None when the notice is done with (posted, unreadable or given up), else seconds to hide it."""
    tries = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
    events = _events_of(message["Body"])
    if events is None:
        logger.error("undelivered notice cannot be read: dropped", message_id=message["MessageId"])
        done.dropped += 1
        return None
    try:
        for event in events:
            notifier.handle(event)
    except Exception as error:
        if slack_unavailable(error) and keep_trying(tries, first_wait_s):
            done.kept += 1
            return retry_wait(tries, first_wait_s)
        logger.error(
            "gave up on an undelivered notice", message_id=message["MessageId"], tries=tries, error=str(error)
        )
        done.dropped += 1
        return None
    logger.info("undelivered notice posted", message_id=message["MessageId"], tries=tries)
    done.posted += 1
    return None


def _events_of(body: str) -> list[Event] | None:
    """The studio events of an on-failure record (`requestPayload`: the SNS event Lambda could not handle)."""
    try:
        records = json.loads(body)["requestPayload"]["Records"]
        events = [parse_event(record["Sns"]["Message"]) for record in records]
    except (ValueError, KeyError, TypeError):
        return None
    readable = [event for event in events if not isinstance(event, MalformedEvent | UnknownEvent)]
    return readable or None
