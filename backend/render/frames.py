"""Frame specs (`42`, `1-240`, `1-240x2`, `1,5,10-20`) parsed with fileseq, and frames planned into tasks."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from backend.errors import ValidationError

EXAMPLES = "`1-240`, `42`, `1-240x2` (every 2nd frame) or `1,5,10-20`"
MAX_SPEC_CHARS = 1_000
BLENDER_LAST_FRAME = 1_048_574  # MAXFRAME: Blender refuses frames past this

# One comma-separated part of a Deadline-style spec: a frame, or a range with an optional step.
# Negative numbers are matched here so that they get their own, clearer, answer.
_PART = re.compile(r"^(?P<start>-?\d+)(?:-(?P<end>-?\d+)(?:x(?P<step>-?\d+))?)?$")


def check_frame_spec(spec: str, max_frames: int = 10_000) -> str:
    """Check a spec's form without expanding it (cheap, no fileseq); return it without spaces."""
    text = spec.strip().replace(" ", "")
    if not text:
        raise ValidationError(f"No frames given: try {EXAMPLES}.")
    if len(text) > MAX_SPEC_CHARS:
        raise ValidationError(f"That frame spec is {len(text):,} characters long: use ranges, e.g. `1-240`.")
    for part in text.split(","):
        _check_part(part, spec, max_frames)
    return text


def parse_frame_spec(spec: str, max_frames: int = 10_000) -> list[int]:
    """Return the frames a spec names, in the spec's order, duplicates merged; raise ValidationError if wrong."""
    import fileseq  # here, not at the top: the bot's ack path checks specs with `check_frame_spec` only

    text = check_frame_spec(spec, max_frames)
    try:
        frames = [int(frame) for frame in fileseq.FrameSet(text)]
    except fileseq.ParseException as error:  # our grammar is a subset of fileseq's, so this is a safety net
        raise ValidationError(f"`{spec}` is not a frame range: try {EXAMPLES}.") from error
    if len(frames) > max_frames:
        raise ValidationError(_too_many(spec, len(frames), max_frames))
    return frames


def _check_part(part: str, spec: str, max_frames: int) -> None:
    """Validate one comma-separated part before fileseq expands it."""
    match = _PART.match(part)
    if match is None:
        if part == "":
            raise ValidationError(f"`{spec}` has an empty part between commas: try `1,5,10-20`.")
        raise ValidationError(f"`{part}` is not a frame range: try {EXAMPLES}.")
    start = int(match["start"])
    end = int(match["end"]) if match["end"] is not None else start
    step = int(match["step"]) if match["step"] is not None else 1
    for frame in (start, end):
        if frame < 0:
            raise ValidationError(f"Frame `{frame}` is negative: frames start at 0, e.g. `0-240`.")
        if frame > BLENDER_LAST_FRAME:
            raise ValidationError(
                f"Frame `{frame}` is past Blender's last frame ({BLENDER_LAST_FRAME:,}): e.g. `1-240`."
            )
    if step <= 0:
        raise ValidationError(
            f"`{part}` has a step of {step}: the step is how many frames to advance and must be 1 or more, "
            f"e.g. `1-240x2`."
        )
    count = abs(end - start) // step + 1
    if count > max_frames:
        # Checked before fileseq expands the range, so `1-999999999` costs nothing.
        raise ValidationError(_too_many(spec, count, max_frames))


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
