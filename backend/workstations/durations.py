"""Durations people type (`4h`, `90m`, `1h30m`, `2d`) and durations people read (`3 h 20 min`)."""

from __future__ import annotations

import re
from datetime import timedelta

from backend.commands import whole_number
from backend.errors import ValidationError

MAX_DURATION = timedelta(days=30)  # longer than any session or extension: past it a typo, not a plan
_DURATION = re.compile(r"(?:(?P<d>[0-9]+)d)?(?:(?P<h>[0-9]+)h)?(?:(?P<m>[0-9]+)m(?:in)?)?")  # ASCII digits
_UNITS = {"d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}


def parse_duration(text: str) -> timedelta:
    """`4h` → 4 hours; raise ValidationError with examples for anything else (`4x`, `0h`, `99999d`, empty)."""
    cleaned = text.strip().lower().replace(" ", "")
    match = _DURATION.fullmatch(cleaned)
    if not cleaned or match is None or not any(match.groupdict().values()):
        raise ValidationError(f"`{text}` is not a duration: try `4h`, `90m` or `1h30m`.")
    too_long = f"`{text}` is too long: a duration can be at most {MAX_DURATION.days} days, e.g. `4h`."
    duration = timedelta(0)
    for unit, length in _UNITS.items():
        if match[unit] is not None:
            # Each part is bounded before any arithmetic: `99999999999d` never reaches timedelta.
            count = whole_number(match[unit], 0, MAX_DURATION // length, too_long, too_high=too_long)
            duration += count * length
    if duration <= timedelta(0):
        raise ValidationError(f"`{text}` is no time at all: try `2h`.")
    if duration > MAX_DURATION:
        raise ValidationError(too_long)
    return duration


def describe(duration: timedelta) -> str:
    """`3 h 20 min`, `45 min`, `2 d 4 h`."""
    minutes = max(0, round(duration.total_seconds() / 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes:02d} min" if minutes else f"{hours} h"
    return f"{minutes} min"
