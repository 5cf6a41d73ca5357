"""Where a waiting job stands in its class's queue: the jobs ahead of it, the frames that go before its first, and
when it should start at the farm's current pace (the card's "⏳ 2 jobs ahead" line; words: `bot.messages.queue`).

The model, as the queues serve tasks: each render class (cpu, gpu) has its own workers. Priorities are lanes taken
strictly in order, so every frame still waiting of a job of higher priority goes before this job's first. Within a
lane the queue is an SQS fair queue by job (`MessageGroupId`, `local/embedded/fair_queues.py`), not first in, first
out: a job with nothing in flight is served before the backlog of jobs that hold workers, so each job of the same
priority submitted earlier and still waiting gets at most one task before this job's first, never its whole
backlog. Held jobs take nothing and are not ahead of anyone. The wait is those frames at the current pace: the
frames per second the class's rendering jobs finish, each measured since its frames started (job records only).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from backend.render.records import Job, JobStatus

TAKING = (JobStatus.QUEUED, JobStatus.PROBING, JobStatus.RUNNING)  # statuses whose tasks are on the queue
MIN_MEASURED_S = 1.0  # a job's pace is measured over at least this long (one frame just in is not a rate)


class ActiveJobs(Protocol):
    """The jobs not yet over, of one render class (the sparse `by_active` index: one Query, never a scan)."""

    def active_jobs(self, render_class: str) -> list[Job]: ...


@dataclass(frozen=True)
class QueuePosition:
    """What is ahead of a waiting job: `jobs_ahead` (of which `taking_turns` share its priority and take turns
    with it), the frames before its first, and in how long it should start (None: no pace measured yet)."""

    jobs_ahead: int
    frames_ahead: int
    starts_in_s: float | None
    taking_turns: int = 0


def is_waiting(job: Job) -> bool:
    """Whether no frame of the job has started yet (its probes first, then none of the rest), and nobody holds
    it."""
    if job.held_by or job.started_at is not None:
        return False
    if job.status is JobStatus.QUEUED or (job.status is JobStatus.PROBING and job.done + job.failed == 0):
        return True  # (a probe in hand is not recorded yet: the line goes with the first probe in)
    return job.status is JobStatus.RUNNING and job.done + job.failed <= len(job.probe_frames)


def nothing_in_yet(job: Job) -> bool:
    """Whether the job takes frames and none of them (after its probes) is in yet: waiting, or just started."""
    finished = job.done + job.failed
    if job.status is JobStatus.PROBING:
        return finished == 0
    return job.status in (JobStatus.QUEUED, JobStatus.RUNNING) and finished <= len(job.probe_frames)


def frames_waiting(job: Job) -> int:
    """The job's frames still to render from its class's queue (0 when held or over)."""
    if job.held_by or job.status not in TAKING:
        return 0
    if job.status is JobStatus.PROBING:
        return max(0, len(job.probe_frames) - job.done - job.failed)
    return job.remaining


def frames_per_task(job: Job) -> int:
    """How many frames one of its tasks carries (a tile counts as a frame)."""
    return max(1, -(-job.total // job.task_count)) if job.task_count > 0 else 1


def pace(jobs: Iterable[Job], now: float) -> float | None:
    """Frames per second the jobs finish now: each rendering job's frames since its frames started, summed; None
    while none has finished a frame."""
    total = 0.0
    for job in jobs:
        since = job.fanned_out_at if job.probe_frames else job.started_at
        finished = job.done + job.failed - len(job.probe_frames)
        if job.held_by or job.status not in TAKING or since is None or finished <= 0:
            continue
        total += finished / max(now - since, MIN_MEASURED_S)
    return total or None


def position(job: Job, active: Iterable[Job], now: float) -> QueuePosition | None:
    """Where `job` stands among its class's `active` jobs; None when it does not wait or nothing is ahead."""
    if not is_waiting(job):
        return None
    others = [
        other
        for other in active
        if other.job_id != job.job_id and other.settings.render_class == job.settings.render_class
    ]
    higher = [other for other in others if other.priority.rank < job.priority.rank and frames_waiting(other)]
    turns = [
        other
        for other in others
        if other.priority is job.priority and other.created_at < job.created_at and frames_waiting(other)
    ]
    if not higher and not turns:
        return None
    frames = sum(frames_waiting(other) for other in higher)
    frames += sum(min(frames_waiting(other), frames_per_task(other)) for other in turns)
    rate = pace(others, now)
    starts_in = frames / rate if rate else None
    return QueuePosition(len(higher) + len(turns), frames, starts_in, len(turns))


def position_of(job: Job, jobs: ActiveJobs, now: float) -> QueuePosition | None:
    """`position` read from the store: one query of the class's active jobs, and only while the job waits."""
    if not is_waiting(job):
        return None
    return position(job, jobs.active_jobs(job.settings.render_class), now)
