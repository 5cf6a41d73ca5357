"""The thread's word when the watchdog stopped a frame: the margin explained, and only the way out that succeeds."""

from __future__ import annotations

from backend.events import FrameStopped
from bot.messages import duration
from bot.messages.text import NAME_CHARS, clip


def stopped_text(event: FrameStopped) -> str:
    """A frame the watchdog stopped, the margin explained, and the one way out that succeeds: the retry re-plans it
    (a frame as tiles, a tile's frame with more of them), never renders it the same way."""
    what = f"frame {event.frame}" + (f", {clip(event.tile, NAME_CHARS)}," if event.tile else "")
    kept = f" ({duration(event.margin_s)} are kept to record it and tell you)" if event.margin_s else ""
    retry = f"`/render retry {event.job_id}`"
    way_out = (
        f"{retry} plans the frame again with more tiles (up to 8×8)"
        if event.tile
        else f"{retry} renders it as tiles planned from a small look"
    )
    return (
        f"⏱️ Render `{event.job_id}`: {what} was stopped after {duration(event.ran_s)} of the "
        f"{duration(event.limit_s)} a render may run{kept}; nothing more is spent on it. {way_out}; fewer "
        f"`--samples` or a smaller `--res` make it lighter."
    )
