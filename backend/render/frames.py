"""Frame specs (`42`, `1-240`, `1-240x2`, `1,5,10-20`, `1-10 20-30`) parsed with fileseq, and frames planned into
tasks. Spaces separate parts as commas do, as Deadline reads them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from backend.commands import whole_number
from backend.errors import ValidationError

EXAMPLES = "`1-240`, `42`, `1-240x2` (every 2nd frame) or `1,5,10-20` (or `1 5 10-20`)"
MAX_SPEC_CHARS = 1_000
BLENDER_LAST_FRAME = 1_048_574  # MAXFRAME: Blender refuses frames past this

# One comma-separated part of a Deadline-style spec: a frame, or a range with an optional step.
# Negative numbers are matched here so that they get their own, clearer, answer; ASCII digits only (`\d` is Unicode).
_AROUND = re.compile(r"\s*([-x,])\s*")
_PART = re.compile(r"(?P<start>-?[0-9]+)(?:-(?P<end>-?[0-9]+)(?:x(?P<step>-?[0-9]+))?)?")


def check_frame_spec(spec: str, max_frames: int = 10_000) -> str:
    """Check a spec's form without expanding it (cheap, no fileseq); return it comma-separated (`1-10,20-30`)."""
    text = spec.strip()
    if not text:
        raise ValidationError(f"No frames given: try {EXAMPLES}.")
    if len(text) > MAX_SPEC_CHARS:
        raise ValidationError(f"That frame spec is {len(text):,} characters long: use ranges, e.g. `1-240`.")
    normal = normal_spec(text)
    for part in normal.split(","):
        _check_part(part, text, max_frames)
    return normal


def normal_spec(spec: str) -> str:
    """A spec as the job store keeps it: its parts comma-separated (`1-10 20-30` → `1-10,20-30`); spaces around
    `-`, `x` and `,` belong to the part (`1 - 3` is `1-3`)."""
    joined = _AROUND.sub(r"\1", spec.strip())
    return ",".join(part for word in joined.split() for part in word.split(","))


def parse_frame_spec(spec: str, max_frames: int = 10_000) -> list[int]:
    """Return the frames a spec names, in the spec's order, duplicates merged; raise ValidationError if wrong."""
    import fileseq  # here, not at the top: the bot's ack path checks specs with `check_frame_spec` only

    text = check_frame_spec(spec, max_frames)
    try:
        frames = [int(frame) for frame in fileseq.FrameSet(text)]
    except fileseq.ParseException as error:  # our grammar is a subset of fileseq's, so this is a safety net
        raise ValidationError(f"`{spec}` is not a frame range: try {EXAMPLES}.") from error
    if len(frames) > max_frames:
        raise ValidationError(_too_many(spec.strip(), len(frames), max_frames))
    return frames


def stored_frames(spec: str) -> list[int]:
    """The frames of a spec the job store holds (checked when the job was made; a retry's may be long)."""
    import fileseq

    return [int(frame) for frame in fileseq.FrameSet(spec)] if spec else []


def _check_part(part: str, spec: str, max_frames: int) -> None:
    """Validate one comma-separated part before fileseq expands it."""
    match = _PART.fullmatch(part)
    if match is None:
        if part == "":
            raise ValidationError(f"`{spec}` has an empty part between commas: try `1,5,10-20`.")
        raise ValidationError(f"`{part}` is not a frame range: try {EXAMPLES}.")
    start = _frame(match["start"], part)
    end = _frame(match["end"], part) if match["end"] is not None else start
    step = 1
    if match["step"] is not None:
        step_is = (
            f"`{part}` has a step of {match['step']}: the step is how many frames to advance and must be"
        )
        step = whole_number(
            match["step"],
            1,
            BLENDER_LAST_FRAME,
            f"`{part}` is not a frame range: try {EXAMPLES}.",
            too_low=f"{step_is} 1 or more, e.g. `1-240x2`.",
            too_high=f"{step_is} at most {BLENDER_LAST_FRAME:,}, e.g. `1-240x2`.",
        )
    count = abs(end - start) // step + 1
    if count > max_frames:
        # Checked before fileseq expands the range, so `1-999999999` costs nothing.
        raise ValidationError(_too_many(spec, count, max_frames))


def _frame(text: str, part: str) -> int:
    """One frame number of a part: from 0 to Blender's last frame."""
    return whole_number(
        text,
        0,
        BLENDER_LAST_FRAME,
        f"`{part}` is not a frame range: try {EXAMPLES}.",
        too_low=f"Frame `{text}` is negative: frames start at 0, e.g. `0-240`.",
        too_high=f"Frame `{text}` is past Blender's last frame ({BLENDER_LAST_FRAME:,}): e.g. `1-240`.",
    )


def _too_many(spec: str, count: int, max_frames: int) -> str:
    return (
        f"`{spec}` is {count:,} frames, over the limit of {max_frames:,} per job: "
        f"split it into jobs of at most {max_frames:,}, e.g. `1-{max_frames}`."
    )


def compact(frames: Iterable[int]) -> str:
    """Write frames back as a short spec (`1-24`, `3,7-9`); empty string for none."""
    import fileseq

    ordered = sorted(set(frames))
    if not ordered:
        return ""
    return str(fileseq.FrameSet(ordered))


def plan_tasks(frames: Sequence[int], chunk: int) -> list[list[int]]:
    """Split frames into tasks of at most `chunk` frames each, keeping their order."""
    if chunk < 1:
        raise ValueError("chunk must be at least 1")
    return [list(frames[index : index + chunk]) for index in range(0, len(frames), chunk)]
