"""SQS adapter: send many messages in batches of ten, resending the entries SQS refused; and the heartbeat that
keeps received messages hidden while a worker works on them.

Every message carries a group (`MessageGroupId`, a render task's job): on a standard queue that makes SQS a fair
queue, which serves a quiet group's messages before a noisy group's backlog."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

from botocore.exceptions import ClientError

from backend.aws.base import AwsAdapter, error_code
from backend.errors import AwsError

logger = logging.getLogger(__name__)
BATCH_LIMIT = 10  # SendMessageBatch takes at most ten entries
MAX_ATTEMPTS = 5
# The receipt no longer holds its message (deleted, or received again elsewhere): nothing left to keep hidden.
# SQS's JSON protocol may spell these `AWS.SimpleQueueService.<Code>`.
RECEIPT_GONE = frozenset({"ReceiptHandleIsInvalid", "MessageNotInflight"})


class SqsQueue(AwsAdapter):
    """A queue we send to; the client is created on first use."""

    service = "sqs"
    label = "SQS"

    def __init__(
        self,
        queue_url: str,
        client: Any | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(client)
        self.queue_url = queue_url
        self._sleep = sleep
        self.calls = 0  # SendMessageBatch calls made, for benchmarks and tests

    def send_all(self, bodies: Sequence[str], group: str) -> None:
        """Send every body in `group`, ten per call; entries that fail are resent with backoff, then AwsError."""
        for start in range(0, len(bodies), BATCH_LIMIT):
            batch = {str(offset): body for offset, body in enumerate(bodies[start : start + BATCH_LIMIT])}
            self._send_batch(batch, group)

    def _send_batch(self, pending: dict[str, str], group: str) -> None:
        for attempt in range(MAX_ATTEMPTS):
            entries = [
                {"Id": entry_id, "MessageBody": body, "MessageGroupId": group}
                for entry_id, body in pending.items()
            ]
            self.calls += 1
            try:
                response = self.client.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            except ClientError as error:
                if attempt + 1 == MAX_ATTEMPTS:
                    raise self.aws_error(error, "queue render tasks") from error
                self._sleep(0.1 * 2**attempt)
                continue
            failed = response.get("Failed", [])
            # A sender's fault (a malformed entry) will not get better by resending it.
            fatal = [item for item in failed if item.get("SenderFault")]
            if fatal:
                raise AwsError(f"SQS refused a render task: {fatal[0].get('Message', fatal[0]['Code'])}.")
            pending = {item["Id"]: pending[item["Id"]] for item in failed}
            if not pending:
                return
            self._sleep(0.1 * 2**attempt)
        raise AwsError(f"SQS did not accept {len(pending)} render task(s) after {MAX_ATTEMPTS} attempts.")


class Heartbeat:
    """Keeps received messages hidden while their task runs: every half visibility timeout it extends their
    visibility by a whole timeout, until `stop` (the task ended) or until no receipt holds its message any more.

    Only a live process beats, so the messages of a worker that died come back after one timeout at most. A beat
    that fails is tried again at the next (another worker taking a task in hand costs a second render).
    """

    def __init__(self, client: Any, queue_url: str, receipts: Sequence[str], visibility_s: int) -> None:
        self.client = client
        self.queue_url = queue_url
        self.receipts = list(receipts)  # a receive hands out ten at most: one call extends them all
        self.visibility_s = visibility_s
        self.beat_s = max(0.5, visibility_s / 2)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="sqs-heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        """Begin beating in a thread of its own."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """The task ended: no beat after this returns."""
        self._done.set()
        if self._thread.is_alive():
            self._thread.join()

    def __enter__(self) -> Heartbeat:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def _beat(self) -> None:
        while self.receipts and not self._done.wait(self.beat_s):
            self._extend()

    def _extend(self) -> None:
        entries = [
            {"Id": str(index), "ReceiptHandle": receipt, "VisibilityTimeout": self.visibility_s}
            for index, receipt in enumerate(self.receipts)
        ]
        try:
            response = self.client.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=entries)
        except ClientError as error:
            if _gone(error_code(error)):
                self.receipts = []
            else:
                logger.warning("could not keep the task hidden (%s): trying again at the next beat", error)
            return
        except Exception as error:  # SQS unreachable for a moment
            logger.warning("could not keep the task hidden (%s): trying again at the next beat", error)
            return
        failed = response.get("Failed", [])
        gone = {int(item["Id"]) for item in failed if _gone(str(item.get("Code", "")))}
        if len(gone) < len(failed):
            logger.warning(
                "SQS kept %d task(s) from being hidden: trying again at the next beat", len(failed)
            )
        self.receipts = [receipt for index, receipt in enumerate(self.receipts) if index not in gone]


def _gone(code: str) -> bool:
    return code.rsplit(".", 1)[-1] in RECEIPT_GONE
