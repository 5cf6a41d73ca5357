"""Every grammar driven with generated text: only our own errors (`StudiobotError`) may escape, never a crash."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from hypothesis import example, given, settings
from hypothesis import strategies as st

from backend.budgets.grammar import parse_budget
from backend.commands import split_words, whole_number
from backend.config import Limits
from backend.errors import StudiobotError, ValidationError
from backend.render.frames import BLENDER_LAST_FRAME, parse_frame_spec
from backend.render.grammar import parse_render, render_subcommand
from backend.workstations.durations import MAX_DURATION, parse_duration
from backend.workstations.grammar import parse_workstations
from bot.signatures import signed_by_slack

EXAMPLES = settings(max_examples=200, deadline=None)

# What people (and fuzzers) type: words of the grammars, digits from every script, superscripts, fullwidth
# digits, huge and negative numbers, control characters, emoji, quotes.
_WORDS = [
    "render", "status", "list", "cancel", "retry", "submit", "help", "start", "stop", "keepalive", "extend",
    "on", "off", "guard", "shot.blend", "anim-01", "1-240", "1-240x2", "1,5,10-20", "4h", "90m", "1h30m", "2d",
    "--res", "--samples", "--chunk", "--engine", "--format", "--assets", "--dry-run", "--allow-missing",
    "--samples=²", "--chunk=³", "1920x1080", "64×36", "cycles", "exr", "²", "³", "٣", "١٩٢٠x١٠٨٠", "１６", "⁹⁹d",
    "99999999999d", "-", "x", ",", "=", '"', "'", "\\", "\x00", "\n", "\t", "\u202e", "🎬", "🔥🔥",
]  # fmt: skip
# Each passes str.isdigit; int() refuses some: ASCII, superscript, circled, Arabic-Indic, Devanagari, fullwidth.
_DIGIT_LIKE = "0123456789²³¹⁰⁴⁹①⑨٣١٩०९０９𝟗"
_NUMBERS = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.integers(0, 5000).map(lambda digits: "9" * digits),
    st.text(st.characters(categories=["Nd", "No", "Nl"]), min_size=1, max_size=6),  # every script's digits
    st.text(st.sampled_from(_DIGIT_LIKE), min_size=1, max_size=6),
)
_PIECE = st.one_of(st.sampled_from(_WORDS), _NUMBERS, st.text(max_size=12))
_GLUED = st.lists(_PIECE, min_size=1, max_size=4).map("".join)  # `1-²`, `4h🎬`, `--res=٣x9`
WORDS = st.lists(st.one_of(_PIECE, _GLUED), max_size=8)
TEXT = WORDS.map(" ".join)
_VALUE = st.one_of(_NUMBERS, _GLUED)
# Well-formed commands up to one generated value, so that the value itself is what gets read.
_RENDER = st.one_of(
    st.tuples(
        st.sampled_from(["--res", "--samples", "--chunk", "--engine", "--format", "--assets"]), _VALUE
    ).map(lambda option: ["shot.blend", "1-240", *option]),
    _VALUE.map(lambda frames: ["shot.blend", frames]),
    st.tuples(_VALUE, _VALUE).map(lambda size: ["shot.blend", "1-240", "--res", "x".join(size)]),
)
_WORKSTATIONS = _VALUE.map(lambda duration: ["extend", "anim-01", duration])


def only_our_errors(parse: Callable[[], object]) -> None:
    """Call `parse`: it may return or raise our own error with a sentence; anything else fails the test."""
    try:
        parse()
    except StudiobotError as error:
        assert str(error).strip()


@EXAMPLES
@given(TEXT)
def test_slack_text_splits_into_words_or_says_what_is_wrong(text: str) -> None:
    only_our_errors(lambda: split_words(text))


@EXAMPLES
@given(st.one_of(WORDS, _RENDER))
@example(["shot.blend", "1-240", "--samples", "²"])
@example(["shot.blend", "1-240", "--chunk", "³"])
@example(["shot.blend", "1-240", "--res", "9" * 5000 + "x1080"])
def test_render_grammar(words: list[str]) -> None:
    render_subcommand(words)

    def parse() -> None:
        request = parse_render(words, Limits())
        parse_frame_spec(request.frames, Limits().max_frames_per_job)

    only_our_errors(parse)


@EXAMPLES
@given(st.one_of(WORDS, _WORKSTATIONS))
@example(["extend", "x", "99999999999d"])
def test_workstations_grammar(words: list[str]) -> None:
    only_our_errors(lambda: parse_workstations(words))


@EXAMPLES
@given(WORDS)
def test_budget_grammar(words: list[str]) -> None:
    only_our_errors(lambda: parse_budget(words))


_SPEC = st.lists(st.one_of(st.sampled_from(["-", "x", ",", " ", "0"]), _NUMBERS), max_size=8).map("".join)


@EXAMPLES
@given(st.one_of(_SPEC, TEXT))
def test_frame_specs(spec: str) -> None:
    try:
        frames = parse_frame_spec(spec)
    except ValidationError as error:
        assert "`" in str(error)
    else:
        assert all(0 <= frame <= BLENDER_LAST_FRAME for frame in frames)


_UNIT = st.sampled_from(["d", "h", "m", "min", " "])
_DURATION = st.lists(st.one_of(_UNIT, _NUMBERS, st.tuples(_NUMBERS, _UNIT).map("".join)), max_size=6).map(
    "".join
)


@EXAMPLES
@given(st.one_of(_DURATION, TEXT))
@example("99999999999d")
@example("9" * 5000 + "m")
def test_durations(text: str) -> None:
    try:
        duration = parse_duration(text)
    except ValidationError as error:
        assert "`" in str(error)
    else:
        assert timedelta(0) < duration <= MAX_DURATION


@EXAMPLES
@given(st.one_of(_NUMBERS, st.text(max_size=20)), st.integers(-(10**12), 0), st.integers(0, 10**12))
def test_whole_numbers_are_in_range_or_our_mistake(text: str, lowest: int, highest: int) -> None:
    try:
        value = whole_number(text, lowest, highest, "wrong", too_low="low", too_high="high")
    except ValidationError as error:
        assert str(error) in ("wrong", "low", "high")
    else:
        assert lowest <= value <= highest and text.lstrip("-").isascii()


@EXAMPLES
@given(st.one_of(_NUMBERS, st.text()), st.text(), st.text())
def test_any_signature_headers_are_checked_without_raising(timestamp: str, signature: str, body: str) -> None:
    assert signed_by_slack("secret", body, timestamp, signature, 1_700_000_000.0) is False
