"""The SQS heartbeat's contract, on an in-memory queue: a message in work never lapses back onto the queue, and no
beat comes once its task has ended (or once its receipt no longer holds it)."""

from __future__ import annotations

import threading
import time
from typing import Any

from botocore.exceptions import ClientError

from backend.aws.sqs import Heartbeat

URL = "https://sqs.us-east-1.amazonaws.com/123456789012/render"


class InMemoryQueue:
    """SQS's visibility rules for received messages: a receipt holds its message hidden until the timeout lapses;
    a receipt whose message lapsed, or was deleted, can no longer change it."""

    def __init__(self) -> None:
        self.hidden_until: dict[str, float] = {}
        self.extended: list[tuple[float, str]] = []  # (when, receipt)
        self.lapsed: list[str] = []  # receipts whose message was visible again before a beat came
        self.calls = 0
        self.refuse_next: str = ""  # an error code the next call answers with
        self.lock = threading.Lock()

    def receive(self, receipt: str, visibility_s: float) -> None:
        self.hidden_until[receipt] = time.monotonic() + visibility_s

    def delete(self, receipt: str) -> None:
        del self.hidden_until[receipt]

    def hidden(self, receipt: str) -> bool:
        return self.hidden_until.get(receipt, 0.0) > time.monotonic()

    def change_message_visibility_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        with self.lock:
            self.calls += 1
            if self.refuse_next:
                code, self.refuse_next = self.refuse_next, ""
                raise ClientError({"Error": {"Code": code, "Message": "no"}}, "ChangeMessageVisibilityBatch")
            now, done, failed = time.monotonic(), [], []
            for entry in Entries:
                receipt = entry["ReceiptHandle"]
                if receipt not in self.hidden_until:
                    failed.append({"Id": entry["Id"], "Code": "ReceiptHandleIsInvalid", "SenderFault": True})
                    continue
                if self.hidden_until[receipt] <= now:
                    self.lapsed.append(receipt)
                self.hidden_until[receipt] = now + entry["VisibilityTimeout"]
                self.extended.append((now, receipt))
                done.append({"Id": entry["Id"]})
            return {"Successful": done, "Failed": failed}


def test_a_message_in_work_stays_hidden_past_its_visibility_timeout() -> None:
    queue = InMemoryQueue()
    for receipt in ("r-1", "r-2"):
        queue.receive(receipt, 2)
    with Heartbeat(queue, URL, ["r-1", "r-2"], visibility_s=2):
        time.sleep(3.3)  # the task runs past one and a half timeouts
        assert queue.hidden("r-1") and queue.hidden("r-2")
    assert queue.lapsed == []  # every beat came before the message would have shown again
    assert {receipt for _, receipt in queue.extended} == {"r-1", "r-2"} and queue.calls >= 3


def test_no_beat_comes_after_the_task_ends() -> None:
    queue = InMemoryQueue()
    queue.receive("r-1", 2)
    heartbeat = Heartbeat(queue, URL, ["r-1"], visibility_s=2).start()
    time.sleep(0.3)
    began = time.monotonic()
    heartbeat.stop()  # in the middle of a wait: it does not wait out the beat
    assert time.monotonic() - began < 0.3
    time.sleep(2.0)
    assert queue.calls == 0 and not queue.hidden("r-1")  # only a live task keeps it hidden


def test_a_message_deleted_elsewhere_is_let_go_and_the_rest_kept() -> None:
    queue = InMemoryQueue()
    for receipt in ("r-1", "r-2"):
        queue.receive(receipt, 1)
    with Heartbeat(queue, URL, ["r-1", "r-2"], visibility_s=1) as heartbeat:
        queue.delete("r-1")
        time.sleep(1.3)
        assert heartbeat.receipts == ["r-2"] and queue.hidden("r-2")
        queue.delete("r-2")
        time.sleep(0.8)
        calls = queue.calls
        time.sleep(0.8)
        assert queue.calls == calls  # nothing left to keep hidden: it beats no more


def test_a_beat_sqs_refuses_is_tried_again_and_a_stale_receipt_ends_the_beating() -> None:
    queue = InMemoryQueue()
    queue.receive("r-1", 2)
    with Heartbeat(queue, URL, ["r-1"], visibility_s=2) as heartbeat:
        queue.refuse_next = "AWS.SimpleQueueService.Throttling"
        time.sleep(2.3)  # the first beat was refused, the second kept it hidden
        assert queue.hidden("r-1") and heartbeat.receipts == ["r-1"]
        queue.refuse_next = "AWS.SimpleQueueService.MessageNotInflight"
        time.sleep(1.7)
        assert heartbeat.receipts == []
