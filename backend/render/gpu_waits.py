"""A gpu job no render node has taken within 10 minutes (nodes could come, none did): the job's thread and a
watching `studiobot render` hear it once, with what to do, from the 5-minute sweep."""

from __future__ import annotations

from typing import Protocol

from backend.errors import NotFoundError
from backend.events import EventPublisher, NodesNotStarted
from backend.render.ports import JobQueries
from backend.render.records import JobStatus

WAIT_S = 600.0
NOBODY_TOOK_IT = ""  # a NodesNotStarted's batch job when no Batch job is to blame: the sweep noticed


class WaitingJobs(Protocol):
    """The gpu jobs the submission asked to be watched (`backend.render.store.roster.NodeRoster`)."""

    def waiting_before(self, cutoff: float) -> list[tuple[str, float]]: ...
    def unwatch(self, job_id: str) -> None: ...


class UntakenJobs(JobQueries, Protocol):
    """What the check needs of the job store: the job, and a place to note how long it waited untaken."""

    def note_untaken(self, job_id: str, waited_s: float) -> None: ...


def tell_untaken(waiting: WaitingJobs, jobs: UntakenJobs, events: EventPublisher, now: float) -> list[str]:
    """Publish `NodesNotStarted` once for each watched gpu job still untouched after `WAIT_S`; forget those that
    moved on. The ids told."""
    told = []
    for job_id, since in waiting.waiting_before(now - WAIT_S):
        try:
            job = jobs.get(job_id)
        except NotFoundError:
            waiting.unwatch(job_id)
            continue
        if job.status is JobStatus.AWAITING_APPROVAL:
            continue  # its tasks are not queued yet: its wait starts when someone presses Submit
        untouched = job.started_at is None and job.done + job.failed == 0
        if untouched and job.status in (JobStatus.QUEUED, JobStatus.PROBING):
            jobs.note_untaken(job_id, now - since)  # before telling: the card the notice refreshes reads it
            events.publish(NodesNotStarted(job_id=job_id, batch_job_id=NOBODY_TOOK_IT, waited_s=now - since))
            told.append(job_id)
        waiting.unwatch(job_id)
    return told
