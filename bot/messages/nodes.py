"""Render nodes in words: a node reclaimed (Spot) or stopped mid-task that hands its task back, and nodes AWS Batch
cancelled before any started."""

from __future__ import annotations

from backend.events import NodeReclaimed, NodesNotStarted
from bot.messages.text import NAME_CHARS, clip

EVENTS = (NodeReclaimed, NodesNotStarted)


def event_text(event: NodeReclaimed | NodesNotStarted) -> str:
    """`⚡ GPU node `ip-10-0-1-7` reclaimed by Spot: frame 42 handed back; another node takes it now.`"""
    if isinstance(event, NodesNotStarted):
        return not_started_text(event)
    node = f"{event.render_class.upper()} node `{clip(event.node, NAME_CHARS)}`"
    how = "reclaimed by Spot" if event.reason == "Spot" else "stopped (SIGTERM)"
    frames = ", ".join(str(frame) for frame in event.frames[:10]) + (" …" if len(event.frames) > 10 else "")
    what = ("frame " if len(event.frames) == 1 else "frames ") + frames
    if event.tile >= 0:
        what += f" (tile {event.tile + 1})"
    return f"⚡ {node} {how}: {what} of `{event.job_id}` handed back; another node takes it now."


def not_started_text(event: NodesNotStarted) -> str:
    """Why no GPU node came, and the two ways on: a node of the studio's own, or cancelling the job."""
    if not event.batch_job_id:  # the sweep noticed: no node took a task, none was cancelled
        return untaken_text(event.job_id, event.waited_s)
    waited = f" in {max(1, round(event.waited_s / 60))} min" if event.waited_s > 0 else ""
    return (
        f"⏳ No GPU node started for `{event.job_id}`{waited}, so AWS Batch cancelled them: no GPU capacity or a "
        "Spot quota of 0: check `studiobot doctor`. The frames wait on the gpu queue for a node (your own "
        f"`studiobot node` takes them) or `/render cancel {event.job_id}`."
    )


def untaken_text(job_id: str, waited_s: float) -> str:
    """No node took a frame of the job in `waited_s`, and what to do: the thread's notice and the card's line."""
    waited = f" in {max(1, round(waited_s / 60))} min" if waited_s > 0 else ""
    return (
        f"⏳ No GPU node has taken a frame of `{job_id}`{waited}: start one (`studiobot node --class gpu` "
        "on a machine with a GPU, or `studiobot up --nodes 1 --class gpu` on the local stack), or "
        f"`/render cancel {job_id}`; the frames wait on the gpu queue until a node comes."
    )
