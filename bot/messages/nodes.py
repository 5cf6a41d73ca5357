"""Render nodes in words: a node reclaimed (Spot) or stopped mid-task that hands its task back, a node on a job's
blocklist, and nodes AWS Batch cancelled before any started."""

from __future__ import annotations

from backend.events import NodeBlocked, NodeReclaimed, NodesNotStarted
from backend.render.records import BLOCK_AFTER
from bot.messages.text import NAME_CHARS, clip

EVENTS = (NodeReclaimed, NodesNotStarted, NodeBlocked)


def event_text(event: NodeReclaimed | NodesNotStarted | NodeBlocked) -> str:
    """`⚡ GPU node `ip-10-0-1-7` reclaimed by Spot: frame 42 handed back; another node takes it now.`"""
    if isinstance(event, NodesNotStarted):
        return not_started_text(event)
    if isinstance(event, NodeBlocked):
        return blocked_text(event, everyone=False)
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


def blocked_text(event: NodeBlocked, everyone: bool) -> str:
    """A node failed the job's tasks and takes no more of them; `everyone`: no node of the class is left to."""
    node = f"{event.render_class.upper()} node `{clip(event.node, NAME_CHARS)}`"
    error = f" (last error: {clip(event.error, 200)})" if event.error else ""
    text = f"🚫 {node} failed {BLOCK_AFTER} of this job's tasks and takes no more of them{error}; "
    if not everyone:
        return text + "other nodes carry on."
    return text + (
        "every node there now is blocked for this job, so its tasks wait: start another node (`studiobot node "
        f"--class {event.render_class}` on another machine) or `/render cancel {event.job_id}`."
    )
