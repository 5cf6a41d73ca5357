"""Two fixes for moto 5.2.5 that the local stack needs where many workers call it at once.

1. DynamoDB: moto applies a request in steps (a transaction deep-copies the tables to roll back) with no lock, so
   concurrent writers crash it ("dictionary changed size during iteration") or interleave conditional writes.
   DynamoDB itself applies each request atomically; a lock around moto's DynamoDB requests does the same here.
2. SQS: moto's `send_message` reads `queue.attributes` only to look at ContentBasedDeduplication, but that
   property counts every message in the queue (visible, delayed, in flight) each time. Sending n messages is then
   O(n²): a 10,000-frame job took over 40 minutes to enqueue. While a thread is inside `send_message`, this patch
   answers `queue.attributes` with just that one attribute; everywhere else moto behaves as released.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_sending = threading.local()
_applied = False


def apply() -> None:
    """Install the patch once per process (harmless to call again)."""
    global _applied
    if _applied:
        return
    from moto.dynamodb.responses import DynamoHandler
    from moto.sqs import models

    dynamodb_lock = threading.RLock()
    original_call_action = DynamoHandler.call_action

    @functools.wraps(original_call_action)
    def call_action(self: Any) -> Any:
        with dynamodb_lock:
            return original_call_action(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]

    full_attributes = models.Queue.attributes.fget  # type: ignore[attr-defined]
    original_send = models.SQSBackend.send_message

    def attributes(queue: Any) -> dict[str, Any]:
        if getattr(_sending, "active", False):
            if not queue.fifo_queue:
                return {}
            value = getattr(queue, "content_based_deduplication", False)
            return {
                "ContentBasedDeduplication": value.lower()
                if isinstance(value, str)
                else str(bool(value)).lower()
            }
        return full_attributes(queue)  # type: ignore[no-any-return]

    @functools.wraps(original_send)
    def send_message(self: Any, *args: Any, **kwargs: Any) -> Any:
        _sending.active = True
        try:
            return original_send(self, *args, **kwargs)
        finally:
            _sending.active = False

    models.Queue.attributes = property(attributes)  # type: ignore[assignment,method-assign]
    models.SQSBackend.send_message = send_message  # type: ignore[method-assign]
    _applied = True
