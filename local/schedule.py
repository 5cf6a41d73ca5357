"""The local stack's stand-in for EventBridge Scheduler: the 5-minute sweep and the daily keep-alive."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


def next_daily(now: datetime, at: str, timezone: str) -> datetime:
    """The next `HH:MM` in `timezone` strictly after `now` (an aware datetime), as EventBridge's cron would fire."""
    hour, minute = (int(part) for part in at.split(":"))
    local = now.astimezone(ZoneInfo(timezone))
    candidate = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if candidate <= local:
        candidate = (candidate + timedelta(days=1)).replace(hour=hour, minute=minute)
    return candidate


def every(
    interval_s: float,
    job: Callable[[], None],
    stopping: threading.Event,
    on_error: Callable[[Exception], None],
) -> None:
    """Run `job` every `interval_s` seconds until `stopping` is set (a failed run is reported, not fatal)."""
    while not stopping.wait(interval_s):
        try:
            job()
        except Exception as error:
            on_error(error)


def daily(
    at: str,
    timezone: str,
    job: Callable[[], None],
    stopping: threading.Event,
    on_error: Callable[[Exception], None],
    clock: Callable[[], datetime] = lambda: datetime.now(ZoneInfo("UTC")),
) -> None:
    """Run `job` every day at `at` in `timezone` until `stopping` is set."""
    while True:
        wait = (next_daily(clock(), at, timezone) - clock()).total_seconds()
        if stopping.wait(max(0.0, wait)):
            return
        try:
            job()
        except Exception as error:
            on_error(error)
