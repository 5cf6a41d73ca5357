"""Durations for `/workstations extend NAME 4h`."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.errors import ValidationError
from backend.workstations.durations import describe, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4h", timedelta(hours=4)),
        ("90m", timedelta(minutes=90)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("2d", timedelta(days=2)),
        (" 2H ", timedelta(hours=2)),
        ("45min", timedelta(minutes=45)),
    ],
)
def test_durations_people_type(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("4x", "is not a duration"),
        ("", "is not a duration"),
        ("h", "is not a duration"),
        ("0h", "no time at all"),
        ("-2h", "is not a duration"),
    ],
)
def test_bad_durations_say_what_works(text: str, said: str) -> None:
    with pytest.raises(ValidationError, match=said) as raised:
        parse_duration(text)
    assert "`" in str(raised.value)


def test_durations_people_read() -> None:
    assert describe(timedelta(minutes=200)) == "3 h 20 min"
    assert describe(timedelta(minutes=45)) == "45 min"
    assert describe(timedelta(hours=52)) == "2 d 4 h"
    assert describe(timedelta(hours=11, minutes=30)) == "11 h 30 min"
