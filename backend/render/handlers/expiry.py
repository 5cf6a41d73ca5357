"""Expiry of unsubmitted renders (every 5 minutes from a schedule): a job nobody submitted in time expires, once."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from backend.aws.sns import SnsPublisher
from backend.budgets.guard import BudgetGuard
from backend.config import Settings
from backend.render.fanout import Fanout
from backend.render.store import DynamoJobs


class _NoQueue:
    """Expiring never queues a task."""

    def send_all(self, bodies: Any) -> None:
        raise RuntimeError("the expiry sweep queues nothing")


def expire_unsubmitted(settings: Settings) -> Callable[[], list[str]]:
    """The sweep: expire what waited too long, return the expired jobs' ids."""
    fanout = Fanout(
        DynamoJobs(settings.table_name),
        _NoQueue(),
        settings,
        events=SnsPublisher(settings.events_topic_arn),
        guard=BudgetGuard(settings.table_name),
    )
    return lambda: [job.job_id for job in fanout.expire_waiting()]


@cache
def _sweep() -> Callable[[], list[str]]:
    return expire_unsubmitted(Settings.from_env())


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"expired": _sweep()()}
