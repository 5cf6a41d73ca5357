"""SQS fair queues on the local stack: moto's receive order made to follow the rule AWS applies.

What AWS does: a standard queue whose messages carry a `MessageGroupId` (studiobot's render tasks carry their job's
id) is a fair queue: it serves a quiet group's messages before the backlog of a noisy one, a group holding much
more than its share of the messages in flight (~10 % of them and 30 of its own, or ~10 % of the consumers' time;
docs: "Amazon SQS fair queues"). moto 5.2.5 accepts the group id on a standard queue but hands messages out first
in, first out.

What the local stack imitates: a receive on a standard queue takes first the visible messages of the groups with
the fewest messages in flight (ties: the oldest message first, so with nothing in flight it is moto's own order;
messages with no group count as one group). Locally any imbalance counts where AWS waits for a clear one: the same
order wherever AWS calls a group noisy, and sooner. One pass over the queue per receive.
"""

from __future__ import annotations

import functools
import os
import threading
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from backend.config import ENV_LOCAL_FAIR_QUEUES

_receiving = threading.local()


def fair_order(visible: list[Any], pending: set[Any]) -> list[Any]:
    """The visible messages, those of the groups with the fewest messages in flight first (ties: oldest first)."""
    in_flight: dict[str | None, int] = defaultdict(int)
    for message in list(pending):  # copied in one step: another request thread may receive meanwhile
        if not message.visible:  # a pending message visible again timed out: no longer in flight
            in_flight[message.group_id] += 1
    if not in_flight:
        return visible  # nothing in flight: every group ties, oldest first
    by_count: dict[int, list[Any]] = defaultdict(list)  # each list in the order sent
    for message in visible:
        by_count[in_flight[message.group_id]].append(message)
    return [message for count in sorted(by_count) for message in by_count[count]]


def wanted(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the local queues follow this order (`STUDIOBOT_LOCAL_FAIR_QUEUES=off`: moto's own, first in first out,
    today's behaviour without fair queues, which `bench/sharing.py` measures)."""
    env = os.environ if environ is None else environ
    return env.get(ENV_LOCAL_FAIR_QUEUES, "on").strip().lower() != "off"


def apply() -> None:
    """Make moto's receive on a standard queue read its messages in the fair order (called by moto_patches)."""
    from moto.sqs import models

    all_visible = models.Queue.messages.fget  # type: ignore[attr-defined]
    original_receive = models.SQSBackend.receive_message

    def messages(queue: Any) -> list[Any]:
        visible: list[Any] = all_visible(queue)
        if getattr(_receiving, "active", False) and not queue.fifo_queue:
            return fair_order(visible, queue.pending_messages)
        return visible

    @functools.wraps(original_receive)
    def receive_message(self: Any, *args: Any, **kwargs: Any) -> Any:
        _receiving.active = True  # only a receive reads the fair order; everything else sees moto's
        try:
            return original_receive(self, *args, **kwargs)
        finally:
            _receiving.active = False

    models.Queue.messages = property(messages)  # type: ignore[assignment,method-assign]
    models.SQSBackend.receive_message = receive_message  # type: ignore[method-assign]
