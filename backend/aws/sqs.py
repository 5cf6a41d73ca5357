"""SQS adapter: send many messages in batches of ten, resending the entries SQS refused."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from botocore.exceptions import ClientError

from backend.aws.base import AwsAdapter
from backend.errors import AwsError

BATCH_LIMIT = 10  # SendMessageBatch takes at most ten entries
MAX_ATTEMPTS = 5


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

    def send_all(self, bodies: Sequence[str]) -> None:
        """Send every body, ten per call; entries that fail are resent with backoff, then AwsError."""
        for start in range(0, len(bodies), BATCH_LIMIT):
            batch = {str(offset): body for offset, body in enumerate(bodies[start : start + BATCH_LIMIT])}
            self._send_batch(batch)

    def _send_batch(self, pending: dict[str, str]) -> None:
        for attempt in range(MAX_ATTEMPTS):
            entries = [{"Id": entry_id, "MessageBody": body} for entry_id, body in pending.items()]
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
