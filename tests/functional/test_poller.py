"""The local SQS event source: Lambda's contract (partial failures, deletes) and a heartbeat for long frames."""

from __future__ import annotations

import threading
import time
from typing import Any

from local.embedded.poller import QueuePoller

from .conftest import Stack


def _poller(stack: Stack, handler: Any, visibility_timeout_s: int = 2) -> QueuePoller:
    return QueuePoller(
        stack.sqs,
        stack.settings.render_queue_url,
        handler,
        function_name="render",
        batch_size=10,
        visibility_timeout_s=visibility_timeout_s,
        retry_delay_s=0,
        wait_s=0,
    )


def _send(stack: Stack, *bodies: str) -> None:
    for body in bodies:
        stack.sqs.send_message(QueueUrl=stack.settings.render_queue_url, MessageBody=body)


def test_successes_are_deleted_and_reported_failures_come_back(stack: Stack) -> None:
    _send(stack, "good", "bad")

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        assert context.get_remaining_time_in_millis() > 0
        failures = [r["messageId"] for r in event["Records"] if r["body"] == "bad"]
        return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failures]}

    assert _poller(stack, handler).poll_once() == 2
    assert stack.queued_bodies() == ["bad"]


def test_a_batch_in_work_stays_invisible_past_the_visibility_timeout(stack: Stack) -> None:
    _send(stack, "long frame")
    started = threading.Event()

    def slow(event: dict[str, Any], context: Any) -> None:
        started.set()
        time.sleep(4.5)  # longer than twice the 2 s visibility timeout

    worker = threading.Thread(target=_poller(stack, slow).poll_once)
    worker.start()
    started.wait(5)
    seen_meanwhile = []
    while worker.is_alive():
        response = stack.sqs.receive_message(QueueUrl=stack.settings.render_queue_url, WaitTimeSeconds=0)
        seen_meanwhile.extend(response.get("Messages", []))
        time.sleep(0.5)
    assert seen_meanwhile == []
    assert stack.queued_bodies() == []  # handled and deleted


def test_a_running_poller_deletes_each_task_while_it_asks_for_the_next_and_stopping_waits_for_the_last(
    stack: Stack,
) -> None:
    # GIVEN three tasks and a poller whose handler stops it after the third
    _send(stack, "1", "2", "3")
    handled: list[str] = []
    poller = _poller(stack, None, visibility_timeout_s=30)
    poller.batch_size = 1

    def handler(event: dict[str, Any], context: Any) -> None:
        handled.extend(record["body"] for record in event["Records"])
        if len(handled) == 3:
            poller.stop()

    poller.handler = handler
    # WHEN it runs until stopped (each delete on its own thread, overlapping the next receive)
    poller.run()
    # THEN every task was handled once and none is left, visible or in flight, when `run` returns
    assert sorted(handled) == ["1", "2", "3"]
    attributes = stack.sqs.get_queue_attributes(
        QueueUrl=stack.settings.render_queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert attributes == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}
