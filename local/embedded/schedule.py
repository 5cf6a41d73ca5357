"""The local stack's stand-in for EventBridge Scheduler: the 5-minute sweep and the daily keep-alive."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from backend.config import ENV_KEEPALIVE_AT, ENV_KEEPALIVE_TZ, ENV_KEEPALIVE_WAIT, ENV_SWEEP_INTERVAL
from entry.expiry import sweep as render_sweep
from entry.wiring import Services


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


def start_schedules(services: Services, stopping: threading.Event, say: Callable[[str], None]) -> None:
    """The sweeps every 5 minutes and the keep-alive daily, as the AWS schedules would run them."""
    sweeper, keep = services.workstations, services.keepalive
    wait_s = float(os.environ.get(ENV_KEEPALIVE_WAIT, "1200"))

    def keepalive_run() -> None:
        started = keep.start_due()
        if not stopping.wait(wait_s):
            keep.report(started.started, keep.stop_started(started.started))

    def failed(error: Exception) -> None:
        say(f"schedule: {type(error).__name__}: {error}")

    interval = float(os.environ.get(ENV_SWEEP_INTERVAL, "300"))
    at, timezone = os.environ.get(ENV_KEEPALIVE_AT, "04:00"), os.environ.get(ENV_KEEPALIVE_TZ, "UTC")
    threading.Thread(target=every, args=(interval, sweeper.sweep, stopping, failed), daemon=True).start()
    threading.Thread(
        target=every, args=(interval, lambda: render_sweep(services), stopping, failed), daemon=True
    ).start()
    threading.Thread(target=daily, args=(at, timezone, keepalive_run, stopping, failed), daemon=True).start()
    say(
        f"schedules: sweeps (sessions, unsubmitted renders, pending announcements) every {interval:g} s, "
        f"keep-alive daily at {at} {timezone}"
    )
