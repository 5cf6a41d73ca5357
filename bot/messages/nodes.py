"""Render nodes in words: one line when a node is reclaimed (Spot) or stopped mid-task and hands its task back."""

from __future__ import annotations

from backend.events import NodeReclaimed
from bot.messages.text import NAME_CHARS, clip

EVENTS = (NodeReclaimed,)


def event_text(event: NodeReclaimed) -> str:
    """`⚡ GPU node `ip-10-0-1-7` reclaimed by Spot: frame 42 handed back; another node takes it now.`"""
    node = f"{event.render_class.upper()} node `{clip(event.node, NAME_CHARS)}`"
    how = "reclaimed by Spot" if event.reason == "Spot" else "stopped (SIGTERM)"
    frames = ", ".join(str(frame) for frame in event.frames[:10]) + (" …" if len(event.frames) > 10 else "")
    what = ("frame " if len(event.frames) == 1 else "frames ") + frames
    if event.tile >= 0:
        what += f" (tile {event.tile + 1})"
    return f"⚡ {node} {how}: {what} of `{event.job_id}` handed back; another node takes it now."
