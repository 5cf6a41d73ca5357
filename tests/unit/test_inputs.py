"""Numbers people type: ASCII digits only, every value bounded, every mistake our own sentence (issue 12, item 3)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.commands import split_words, whole_number
from backend.errors import ValidationError
from backend.render.frames import parse_frame_spec
from backend.render.grammar import parse_render
from backend.workstations.durations import MAX_DURATION, parse_duration
from backend.workstations.grammar import parse_workstations


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("shot.blend 1-10 --samples ²", "`--samples ²` must be a whole number from 1 to 16,384"),
        ("shot.blend 1-10 --chunk ³", "`--chunk ³` must be a whole number from 1 to 100"),
        ("shot.blend 1-10 --samples ٣", "must be a whole number"),  # an Arabic-Indic 3: a digit, not ours
        ("shot.blend 1-10 --samples " + "9" * 5000, "must be a whole number from 1 to 16,384"),
        ("shot.blend 1-10 --res ¹⁹²⁰x¹⁰⁸⁰", "is not a resolution"),
        ("shot.blend 1-10 --res ١٩٢٠x١٠٨٠", "is not a resolution"),
        ("shot.blend 1-10 --res " + "9" * 5000 + "x1080", "outside 1x1 to 7680x4320"),
    ],
)
def test_render_numbers_that_are_not_ascii_or_too_big_are_validation_errors(text: str, said: str) -> None:
    with pytest.raises(ValidationError) as raised:
        parse_render(split_words(text))
    assert said in str(raised.value)


@pytest.mark.parametrize("spec", ["¹-⁵", "١-٥", "1-5x²", "1-" + "9" * 900])
def test_frame_specs_take_ascii_digits_only(spec: str) -> None:
    with pytest.raises(ValidationError):
        parse_frame_spec(spec)


@pytest.mark.parametrize("text", ["99999999999d", "9" * 5000 + "m", "31d", "721h", "30d1m"])
def test_durations_past_thirty_days_are_too_long(text: str) -> None:
    with pytest.raises(ValidationError) as raised:
        parse_duration(text)
    assert str(raised.value) == f"`{text}` is too long: a duration can be at most 30 days, e.g. `4h`."


def test_thirty_days_is_the_longest_duration() -> None:
    assert parse_duration("30d") == MAX_DURATION == timedelta(days=30)
    assert parse_duration("720h") == MAX_DURATION


@pytest.mark.parametrize("text", ["²h", "١h", "4h\x00"])
def test_durations_take_ascii_digits_only(text: str) -> None:
    with pytest.raises(ValidationError, match="is not a duration"):
        parse_duration(text)


def test_workstations_extend_checks_its_duration_in_the_grammar() -> None:
    with pytest.raises(ValidationError, match="`99999999999d` is too long: a duration can be at most 30"):
        parse_workstations(split_words("extend x 99999999999d"))
    assert parse_workstations(split_words("extend anim-01 4h")).argument == "4h"


@pytest.mark.parametrize(
    ("text", "value"), [("0", 0), ("16", 16), ("0016", 16), ("-5", -5), ("16384", 16_384)]
)
def test_whole_numbers_in_ascii_digits(text: str, value: int) -> None:
    assert whole_number(text, -10, 16_384, "wrong") == value


@pytest.mark.parametrize("text", ["", "-", "+5", "1.5", "1e3", "²", "٣", "１６", " 16", "16 ", "0x10", "1_0"])
def test_anything_else_is_the_mistake(text: str) -> None:
    with pytest.raises(ValidationError, match=r"^wrong$"):
        whole_number(text, -10, 16_384, "wrong")


def test_out_of_range_says_too_low_or_too_high_without_building_a_huge_number() -> None:
    with pytest.raises(ValidationError, match=r"^low$"):
        whole_number("-11", -10, 10, "wrong", too_low="low", too_high="high")
    with pytest.raises(ValidationError, match=r"^high$"):
        whole_number("9" * 100_000, -10, 10, "wrong", too_low="low", too_high="high")
    with pytest.raises(ValidationError, match=r"^low$"):
        whole_number("-" + "9" * 100_000, -10, 10, "wrong", too_low="low", too_high="high")
    with pytest.raises(ValidationError, match=r"^wrong$"):
        whole_number("11", 0, 10, "wrong")  # without its own sentence, out of range is the mistake
