"""When the local stack's daily keep-alive fires: the schedule's time in the studio's timezone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from local.embedded.schedule import next_daily

UTC = ZoneInfo("UTC")


def test_before_the_hour_it_fires_today_and_after_it_tomorrow() -> None:
    assert next_daily(datetime(2026, 11, 21, 3, 0, tzinfo=UTC), "04:00", "UTC") == datetime(
        2026, 11, 21, 4, 0, tzinfo=UTC
    )
    assert next_daily(datetime(2026, 11, 21, 4, 0, tzinfo=UTC), "04:00", "UTC") == datetime(
        2026, 11, 22, 4, 0, tzinfo=UTC
    )


def test_the_hour_is_the_studios_own_across_a_dst_change() -> None:
    # 04:00 in London is 04:00 UTC in winter and 03:00 UTC in summer.
    winter = next_daily(datetime(2026, 11, 21, 12, 0, tzinfo=UTC), "04:00", "Europe/London")
    summer = next_daily(datetime(2026, 7, 1, 12, 0, tzinfo=UTC), "04:00", "Europe/London")
    assert winter.astimezone(UTC).hour == 4 and summer.astimezone(UTC).hour == 3
    spring = next_daily(
        datetime(2026, 3, 28, 12, 0, tzinfo=UTC), "04:00", "Europe/London"
    )  # DST starts on the 29th
    assert spring.astimezone(ZoneInfo("Europe/London")).hour == 4
