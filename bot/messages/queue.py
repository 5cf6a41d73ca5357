"""Where a waiting job stands, in words: the card's line, `/render status` and `studiobot render status` alike
(what is ahead is `backend.render.queue_position`'s to decide)."""

from __future__ import annotations

from backend.render.queue_position import QueuePosition
from bot.messages import Blocks, section

PROGRESS_BLOCKS = 2  # the card's header and its progress bar: the line goes right under them


def starts_in(seconds: float) -> str:
    """`~40 s`, `~6 min`, `~2 h 05 min`: a start estimate, as rounded as it is sure."""
    if seconds < 59.5:
        return f"~{max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    return f"~{minutes} min" if minutes < 60 else f"~{minutes // 60} h {minutes % 60:02d} min"


def queue_line(where: QueuePosition | None) -> str:
    """`⏳ 2 jobs ahead (1,940 frames) — starts in ~6 min at the current pace`; "" when the job does not wait."""
    if where is None:
        return ""
    jobs = f"{where.jobs_ahead:,} job{'s' if where.jobs_ahead != 1 else ''}"
    frames = f"{where.frames_ahead:,} frame{'s' if where.frames_ahead != 1 else ''}"
    if where.taking_turns:  # a fair queue: its own priority's jobs give it a turn, not their backlog
        frames += ": jobs of one priority take turns"
    when = (
        "starts when a worker frees up"
        if where.starts_in_s is None
        else f"starts in {starts_in(where.starts_in_s)} at the current pace"
    )
    return f"⏳ {jobs} ahead ({frames}) — {when}"


def with_queue_line(message: tuple[str, Blocks], where: QueuePosition | None) -> tuple[str, Blocks]:
    """A job's card (or status) with the line under its progress; the message as it was when the job does not
    wait."""
    line = queue_line(where)
    if not line:
        return message
    text, blocks = message
    return f"{text}\n{line}", [*blocks[:PROGRESS_BLOCKS], section(line), *blocks[PROGRESS_BLOCKS:]]
