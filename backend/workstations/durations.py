"""Durations people type (`4h`, `90m`, `1h30m`, `2d`) and durations people read (`3 h 20 min`)."""

from __future__ import annotations

import re
from datetime import timedelta

from backend.errors import ValidationError

_DURATION = re.compile(r"^(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m(?:in)?)?$")


def parse_duration(text: str) -> timedelta:
    """`4h` → 4 hours; raise ValidationError with examples for anything else (`4x`, `0h`, empty)."""
    cleaned = text.strip().lower().replace(" ", "")
    match = _DURATION.match(cleaned)
    if not cleaned or match is None or not any(match.groupdict().values()):
        raise ValidationError(f"`{text}` is not a duration: try `4h`, `90m` or `1h30m`.")
    duration = timedelta(days=int(match["d"] or 0), hours=int(match["h"] or 0), minutes=int(match["m"] or 0))
    if duration <= timedelta(0):
        raise ValidationError(f"`{text}` is no time at all: try `2h`.")
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
