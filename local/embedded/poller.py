"""What Lambda's SQS event source mapping does, done locally: receive, call the handler, delete what succeeded.

A poller may serve several queues, a render class's priority lanes (urgent first): it takes a lane's task only when
every lane above it gave none at that receive (`backend.render.lanes.receive_in_order`). On AWS the render Lambda
polls each lane through its own event source and `LaneScheduler` switches them; the local stack has no Lambda, so
its workers keep the order at every receive, as render nodes do.

A handler may return before its work is all done (the render worker delivers a task's last frame while the next task
renders): its result's `settle` then waits for that work and names the messages whose work failed. The batch is
deleted only after, its heartbeat beating until then, while the poller already receives the next."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from backend.aws.sqs import Heartbeat
from backend.render.lanes import receive_in_order

Handler = Callable[[dict[str, Any], Any], Mapping[str, Any] | None]


@dataclass
class LocalContext:
    """The parts of a Lambda context object our handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int = 10240
    timeout_s: float = 900.0
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = ""
    function_version: str = "$LATEST"
    _deadline: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_s
        if not self.invoked_function_arn:
            self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def lambda_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """An SQS message as Lambda hands it to a function."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "dataType": value.get("DataType", "String"),
                "stringListValues": [],
                "binaryListValues": [],
            }
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3] if queue_arn.count(":") >= 3 else "us-east-1",
    }


class QueuePoller:
    """Long-polls one queue (or a class's lanes, urgent first) and feeds batches to a Lambda-style handler until
    stopped."""

    def __init__(
        self,
        sqs: Any,
        queue_url: str | Sequence[str],
        handler: Handler,
        function_name: str,
        batch_size: int = 1,
        visibility_timeout_s: int = 120,
        retry_delay_s: int = 2,
        wait_s: int = 1,
        timeout_s: float = 900.0,
    ) -> None:
        self.sqs = sqs
        self.lanes = [queue_url] if isinstance(queue_url, str) else list(queue_url)
        self.queue_url = self.lanes[0]  # the one a batch came from, while it is handled
        self.handler = handler
        self.function_name = function_name
        self.timeout_s = timeout_s
        self.batch_size = batch_size
        self.visibility_timeout_s = visibility_timeout_s
        self.retry_delay_s = retry_delay_s
        self.wait_s = wait_s
        self.stopping = threading.Event()
        self._deleter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="delete")
        # A batch whose work settles after its handler returned waits here, never in front of another's delete.
        self._settler = ThreadPoolExecutor(max_workers=1, thread_name_prefix="settle")
        self.queue_arns = {
            url: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            for url in self.lanes
        }

    def poll_once(self) -> int:
        """Receive one batch and handle it; return how many messages came (deleted before it returns)."""
        return self._poll(defer_delete=False)

    def _poll(self, defer_delete: bool) -> int:
        """One batch; with `defer_delete` its delete goes on the deleter thread, overlapping the next receive."""
        url, messages = receive_in_order(
            self.sqs,
            self.lanes,
            self.wait_s,
            MaxNumberOfMessages=self.batch_size,
            VisibilityTimeout=self.visibility_timeout_s,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        if not messages:
            return 0
        self.queue_url = url
        event = {"Records": [lambda_record(message, self.queue_arns[url]) for message in messages]}
        # A long frame would otherwise reappear on the queue mid-render. (On AWS the queue's visibility timeout is
        # 6 × the function's, so Lambda needs no such heartbeat.)
        receipts = [message["ReceiptHandle"] for message in messages]
        heartbeat = Heartbeat(self.sqs, url, receipts, self.visibility_timeout_s).start()
        settle: Callable[[], set[str]] | None = None
        try:
            context = LocalContext(
                self.function_name, timeout_s=self.timeout_s
            )  # the function's limit, as Lambda's
            result = self.handler(event, context) or {}
            failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
            settle = result.get("settle")
        except Exception:
            failed = {message["MessageId"] for message in messages}  # a crashed invocation fails the batch
        except BaseException:  # the process dies: its beat with it
            heartbeat.stop()
            raise
        if settle is not None and defer_delete:
            self._settler.submit(self._finish, url, messages, failed, heartbeat, settle)
        else:
            self._finish(url, messages, failed, heartbeat, settle, defer_delete)
        return len(messages)

    def _finish(
        self,
        url: str,
        messages: list[dict[str, Any]],
        failed: set[str],
        heartbeat: Heartbeat,
        settle: Callable[[], set[str]] | None,
        defer_delete: bool = False,
    ) -> None:
        """Once the batch's work settled: delete what succeeded (on the deleter thread with `defer_delete`), and
        show what failed again soon."""
        try:
            if settle is not None:
                failed = failed | settle()
        except Exception as error:  # its work failed behind: every message of the batch comes back
            print(
                f"{self.function_name}: a batch's work failed after its handler returned ({error})",
                flush=True,
            )
            failed = {message["MessageId"] for message in messages}
        finally:
            heartbeat.stop()
        done = [message for message in messages if message["MessageId"] not in failed]
        if done:
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)]
            if defer_delete:
                self._deleter.submit(self._delete, url, entries)
            else:
                self._delete(url, entries)
        retry = [message for message in messages if message["MessageId"] in failed]
        if retry:
            # Lambda waits out the whole visibility timeout; locally a short delay keeps retries snappy.
            self._set_visibility(url, retry, self.retry_delay_s)

    def _set_visibility(self, url: str, messages: list[dict[str, Any]], seconds: int) -> None:
        entries = [
            {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"], "VisibilityTimeout": seconds}
            for index, message in enumerate(messages)
        ]
        self.sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)

    def _delete(self, queue_url: str, entries: list[dict[str, str]]) -> None:
        """Delete what was handled. One that fails comes back after its visibility timeout: a duplicate delivery,
        which every handler takes as one (frames count once)."""
        try:
            self.sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)
        except Exception as error:
            print(
                f"{self.function_name}: a handled message was not deleted ({error}); it comes back once",
                flush=True,
            )

    def run(self) -> None:
        """Poll until stopped. A batch's delete overlaps the next receive (Lambda, too, deletes after the function
        returned, not before its next poll); stopping waits for the last one."""
        try:
            while not self.stopping.is_set():
                self._poll(defer_delete=True)
        finally:
            self._settler.shutdown(wait=True)
            self._deleter.shutdown(wait=True)

    def stop(self) -> None:
        self.stopping.set()
