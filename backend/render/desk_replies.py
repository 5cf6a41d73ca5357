"""What the render desk answers (`backend.render.desk`): plain data that Slack's listener and the CLI each show.

Light on purpose: the bot's messages read these types in the ack path, where nothing may load boto3.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from backend.commands import Reply
from backend.render.queue_position import QueuePosition
from backend.render.records import Job

if TYPE_CHECKING:
    from backend.render.submit import RenderPlan


@dataclass(frozen=True)
class DryRun(Reply):
    """`--dry-run`: what would run; nothing was queued."""

    plan: RenderPlan


@dataclass(frozen=True)
class JobSent(Reply):
    """A render queued (or waiting for Submit), to be announced where it was asked; `sent_before`: Slack re-sent the
    command, or the same words came again, and this is the job they made (`plan` None: not planned again)."""

    job: Job
    plan: RenderPlan | None
    sent_before: bool = False


@dataclass(frozen=True)
class RetrySent(Reply):
    """A finished job's failed frames as a new job, to be announced in its channel; `created` False: asked again,
    this is the retry job the first asking made."""

    retry_of: str
    job: Job
    plan: RenderPlan
    created: bool


@dataclass(frozen=True)
class StatusShown(Reply):
    """One job's status (None: the person has no render in this channel yet), as of `now`, and what is ahead of it
    while it waits in the queue."""

    job: Job | None
    now: float
    queue: QueuePosition | None = None


@dataclass(frozen=True)
class JobsListed(Reply):
    """The channel's recent jobs, newest first, as `user` sees them at `now`."""

    jobs: list[Job]
    user: str
    now: float


@dataclass(frozen=True)
class Cancelled(Reply):
    """The job is cancelled: frames not yet rendered will be skipped."""

    job_id: str


@dataclass(frozen=True)
class Submitted(Reply):
    """Submit pressed on a job that waited for it."""

    job: Job


@dataclass(frozen=True)
class Held(Reply):
    """The job is held: the frames in hand finish, no new frame starts until it is resumed."""

    job: Job


@dataclass(frozen=True)
class Resumed(Reply):
    """A held job goes on: `frames` not yet rendered were queued again."""

    job: Job
    frames: int


@dataclass(frozen=True)
class Reprioritised(Reply):
    """The job has a new priority: `frames` not yet rendered were queued again in its lane (0 when it is held,
    probing or waiting for Submit: they go there when they are queued)."""

    job: Job
    frames: int


@dataclass(frozen=True)
class MovieAsked(Reply):
    """`/render movie JOB`: the job's `frames` in order at `fps`, `failed` ones (with why) as slates, asked by `by`;
    the edge makes the movie where it shows it (Slack: the job's thread; the CLI: `renders/<job>/`)."""

    job: Job
    frames: tuple[int, ...]
    fps: Fraction
    failed: dict[int, str]
    by: str
    retries: tuple[
        Job, ...
    ] = ()  # its retries, oldest first: a frame one of them rendered is shown from there
