"""`/render`'s replies (`backend.render.desk_replies`) as Slack messages; the job card itself is
`bot.messages.render.job_card`, posted by the listener for a `JobSent` or a `RetrySent`."""

from __future__ import annotations

from backend.commands import Reply
from backend.config import Costs
from backend.render.desk_replies import (
    Cancelled,
    DryRun,
    Held,
    JobsListed,
    MovieAsked,
    Reprioritised,
    Resumed,
    RetrySent,
    StatusShown,
    Submitted,
)
from backend.render.frames import compact
from backend.render.records import Job, JobStatus
from backend.render.spend import CostsShown
from bot.messages import duration, section
from bot.messages.job_facts import held_line
from bot.messages.queue import with_queue_line
from bot.messages.render import LIST_JOBS, STATUS_LABEL, help_message, job_list, status_message
from bot.messages.render_costs import costs_message
from bot.messages.render_plan import dry_run_text
from bot.messages.replies import Message, shared_message
from bot.messages.tables import CELL_CHARS, Cell, Tabled, person_cell, table_block
from bot.messages.text import ELLIPSIS, REASON_CHARS, clip

NO_RENDERS = "You have no renders in this channel yet: try `/render help`."


def render_message(reply: Reply, costs: Costs, link: str | None = None, valid_for: str = "") -> Message:
    """A reply that is a message to whoever asked (`link`: the ended job's frames, for a status)."""
    if isinstance(reply, DryRun):
        return dry_run_text(reply.plan), None
    if isinstance(reply, StatusShown):
        if reply.job is None:
            return NO_RENDERS, None
        text, blocks = with_queue_line(status_message(reply.job, reply.now, costs), reply.queue)
        if link:  # a link posted days ago may have expired: this one lasts its days again
            line = f"<{link}|Download the frames> (link valid {valid_for})"
            text, blocks = f"{text}\n{line}", [*blocks, section(line)]
        return text, blocks
    if isinstance(reply, JobsListed):
        return job_table(reply.jobs, reply.user, reply.now)
    if isinstance(reply, CostsShown):
        return costs_message(reply)
    if isinstance(reply, Cancelled):
        return f"🛑 Cancelled `{reply.job_id}`: frames not yet rendered will be skipped.", None
    if isinstance(reply, Held | Resumed | Reprioritised):
        return steered_text(reply), None
    if isinstance(reply, Submitted):
        job = reply.job
        what = (
            "its probe frames render first"
            if job.probe_frames and job.estimate is None
            else "its frames are on their way"
        )
        return f"▶️ Submitted `{job.job_id}`: {what}.", None
    if isinstance(reply, MovieAsked):
        return f"🎬 {movie_line(reply)}.", None
    if isinstance(reply, RetrySent) and not reply.created:
        return f"`{reply.retry_of}` is already being retried as `{reply.job.job_id}`.", None
    return shared_message(reply, lambda: help_message(costs))


def job_table(jobs: list[Job], user_id: str, now: float) -> Message:
    """`/render list` as a table block (the asker's jobs first); where Slack refuses tables, today's lines."""
    listed = job_list(jobs, user_id, now)
    if not jobs:
        return listed
    ordered = sorted(jobs, key=lambda job: (job.requested_by != user_id, -job.created_at))[:LIST_JOBS]
    rows: list[list[Cell]] = [
        [
            job.job_id,
            STATUS_LABEL[job.status],
            _key_end(job.scene_key),
            job.frames_spec,
            f"{job.done + job.failed:,}/{job.total:,}",
            person_cell(job.requested_by),
            f"{duration(now - job.created_at)} ago",
        ]
        for job in ordered
    ]
    table = table_block(("job", "status", "scene", "frames", "done", "by", "started"), rows, right=(4, 6))
    text, blocks = listed
    more = [block for block in blocks if block["type"] == "context"]  # "…and 5 older"
    return Tabled(text, [section("Recent renders in this channel:"), *more, table], listed)


def _key_end(key: str) -> str:
    """A scene key's end (its shot and file), as a cell."""
    return key if len(key) <= CELL_CHARS else ELLIPSIS + key[-(CELL_CHARS - 1) :]


def steered_text(reply: Held | Resumed | Reprioritised) -> str:
    """What a hold, a resume or a new priority did, for whoever asked and the job's thread alike."""
    job = reply.job
    if isinstance(reply, Held):
        return f"{held_line(job)} (`{job.job_id}`: the frames in hand finish and count)."
    frames = f"{reply.frames:,} frame{'s' if reply.frames != 1 else ''} not yet rendered"
    if isinstance(reply, Resumed) and not reply.frames:
        return f"▶️ `{job.job_id}` resumed: every frame was in already, so it is finishing."
    if isinstance(reply, Resumed):
        return f"▶️ `{job.job_id}` resumed: {frames} queued again."
    if reply.frames:
        return f"🚦 `{job.job_id}` is {job.priority} now: {frames} queued again in its lane."
    return f"🚦 `{job.job_id}` is {job.priority} now: its frames wait in that lane once queued."


def sent_before_text(job_id: str) -> str:
    """The answer to a render sent again whose card is already in the channel."""
    return (
        f"You sent this render a moment ago: it is job `{job_id}` (its card is in the channel). "
        f"Nothing new was queued."
    )


def card_not_posted_text(job: Job, error: Exception) -> str:
    """The answer when the job exists but Slack did not take its card."""
    then = (
        f"it waits for Submit: `/render submit {job.job_id}`"
        if job.status is JobStatus.AWAITING_APPROVAL
        else "its frames are queued"
    )
    return (
        f"Job `{job.job_id}` was created and {then}, but its card could not be posted in the channel "
        f"(Slack answered: {type(error).__name__}). `/render status {job.job_id}` shows it; sending the same "
        f"command again posts the card, without a second job."
    )


def movie_line(asked: MovieAsked) -> str:
    """What a movie shows: `The dailies of `r1…`: 240 frames (1-240) at 24 fps, 2 failed frames as slates`."""
    count = len(asked.frames)
    fps = f"{float(asked.fps):.3f}".rstrip("0").rstrip(".")
    what = f"{count:,} frame{'s' if count != 1 else ''} ({clip(compact(asked.frames), REASON_CHARS)}) at {fps} fps"
    slates = f", {len(asked.failed)} failed as slates" if asked.failed else ""
    return f"The dailies of `{asked.job.job_id}`: {what}{slates}"
