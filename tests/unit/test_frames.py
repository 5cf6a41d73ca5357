"""Frame specs: what studios type, what they get back, and what they are told when it is wrong."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.errors import ValidationError
from backend.render.frames import compact, parse_frame_spec, plan_tasks


@pytest.mark.parametrize(
    ("spec", "frames"),
    [
        ("42", [42]),
        ("1-5", [1, 2, 3, 4, 5]),
        ("1-10x2", [1, 3, 5, 7, 9]),
        ("1,5,10-12", [1, 5, 10, 11, 12]),
        ("5-1", [5, 4, 3, 2, 1]),
        ("100-1x25", [100, 75, 50, 25]),
        ("3,1,3,2,1", [3, 1, 2]),
        ("1-3,2-5", [1, 2, 3, 4, 5]),
        (" 1 - 3 ", [1, 2, 3]),
        ("0", [0]),
    ],
)
def test_accepted_specs_yield_the_frames_they_name(spec: str, frames: list[int]) -> None:
    assert parse_frame_spec(spec) == frames


def test_a_full_shot_is_240_frames() -> None:
    assert len(parse_frame_spec("1-240")) == 240
    assert parse_frame_spec("1-240x2")[-1] == 239


@pytest.mark.parametrize(
    ("spec", "said"),
    [
        ("", "No frames given"),
        ("   ", "No frames given"),
        ("-5", "negative"),
        ("-5-10", "negative"),
        ("1-10x0", "step of 0"),
        ("1-10x-2", "step of -2"),
        ("abc", "`abc` is not a frame range"),
        ("1-10y2", "not a frame range"),
        ("1-10:3", "not a frame range"),
        ("1,,2", "empty part"),
        ("1-20000", "20,000 frames, over the limit of 10,000"),
        ("1-999999999999", "past Blender's last frame"),
        ("10000000000000000000000000000", "past Blender's last frame (1,048,574)"),
        ("1-20000,1048570-1048574", "20,000 frames, over the limit"),
    ],
)
def test_wrong_specs_say_what_was_wrong_and_what_works(spec: str, said: str) -> None:
    with pytest.raises(ValidationError) as raised:
        parse_frame_spec(spec)
    assert said in str(raised.value)
    assert "`" in str(raised.value)  # every answer quotes something to type


def test_the_limit_counts_distinct_frames_after_merging() -> None:
    assert len(parse_frame_spec("1-10,1-10", max_frames=10)) == 10
    with pytest.raises(ValidationError, match="11 frames, over the limit of 10"):
        parse_frame_spec("1-10,11", max_frames=10)


def test_compact_writes_frames_back_as_a_short_spec() -> None:
    assert compact([3, 1, 2, 7, 9, 8]) == "1-3,7-9"
    assert compact([]) == ""


def test_tasks_are_chunks_in_frame_order() -> None:
    assert plan_tasks([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    assert plan_tasks([5, 4, 3], 1) == [[5], [4], [3]]


@given(st.text(max_size=40))
def test_any_text_either_parses_or_raises_our_validation_error(spec: str) -> None:
    try:
        frames = parse_frame_spec(spec, max_frames=10_000)
    except ValidationError as error:
        assert str(error)
    else:
        assert frames and len(frames) == len(set(frames)) <= 10_000
        assert all(frame >= 0 for frame in frames)


_part = st.one_of(
    st.integers(0, 500).map(lambda n: ([n], str(n))),
    st.tuples(st.integers(0, 500), st.integers(0, 500), st.integers(1, 20)).map(
        lambda t: (
            list(range(t[0], t[1] + 1, t[2])) if t[0] <= t[1] else list(range(t[0], t[1] - 1, -t[2])),
            f"{t[0]}-{t[1]}x{t[2]}",
        )
    ),
)


@given(st.lists(_part, min_size=1, max_size=6))
def test_accepted_specs_yield_exactly_the_frames_they_name(parts: list[tuple[list[int], str]]) -> None:
    expected: list[int] = []
    for frames, _ in parts:
        expected.extend(frame for frame in frames if frame not in expected)
    spec = ",".join(text for _, text in parts)
    assert parse_frame_spec(spec) == expected


def test_spaces_separate_parts_as_deadline_reads_them() -> None:
    assert parse_frame_spec("1-10 20-30") == [*range(1, 11), *range(20, 31)]
    assert parse_frame_spec("5 10") == [5, 10]
    assert parse_frame_spec("1, 5  10-12") == [1, 5, 10, 11, 12]


def test_an_error_quotes_what_the_user_wrote_never_a_joined_version() -> None:
    with pytest.raises(ValidationError) as raised:
        parse_frame_spec("1-10 20-3O")
    assert "`20-3O` is not a frame range" in str(raised.value)
    with pytest.raises(ValidationError) as raised:
        parse_frame_spec("1-6000 7000-12000", max_frames=10_000)
    assert str(raised.value).startswith("`1-6000 7000-12000` is 11,001 frames")
