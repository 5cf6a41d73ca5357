"""Every announcement about a job goes through the outbox: one event per fact, whatever fails on the way.

The transition that makes a fact true (the job ended, its probes were estimated, someone pressed Submit) records it
in the job's outbox in the same conditional write (`backend.render.store.transitions`). Whoever made it true then
asks the outbox to publish what is pending; a fact is taken out once published. A publish that fails, or a process
that dies between the write and the publish, leaves the fact pending, and the sweep (every 5 minutes) publishes
whatever stayed pending past a short grace. A fact can be published twice only when two publishers race or one
dies after publishing; the notifiers claim each notice once, so the channel still hears it once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

from backend.events import Event, JobApproved, JobCompleted, JobEstimated
from backend.render.ports import EventPublisher, JobQueries, PendingFacts
from backend.render.records import Job

GRACE_S = 60.0  # a fact younger than this is left to the process that made it true
logger = logging.getLogger(__name__)


class OutboxJobs(JobQueries, PendingFacts, Protocol):
    """What the outbox needs of the job store: the job, its pending facts, and its failed frames (for the end)."""

    def failed_frames(self, job_id: str) -> list[int]: ...


class Outbox:
    """Publishes the facts a job's outbox holds, and sweeps up those left pending."""

    def __init__(
        self,
        jobs: OutboxJobs,
        events: EventPublisher,
        clock: Callable[[], float] = time.time,
        grace_s: float = GRACE_S,
    ) -> None:
        self.jobs = jobs
        self.events = events
        self.clock = clock
        self.grace_s = grace_s

    def flush(self, job_id: str, job: Job | None = None) -> list[Event]:
        """Publish what the job's outbox holds (`job`: as the write that filled it returned it, else read now);
        what could not be published stays for the sweep."""
        job = job or self.jobs.get(job_id)
        published = []
        for fact in job.outbox:
            event = self._event(job, fact)
            try:
                self.events.publish(event)
            except Exception as error:  # left pending: the sweep publishes it
                logger.warning("could not publish %s of %s (the sweep will): %r", fact, job_id, error)
                continue
            self.jobs.mark_published(job_id, fact)
            published.append(event)
        return published

    def sweep(self) -> list[Event]:
        """Publish every fact left pending for longer than the grace (a failed publish, a crash)."""
        published = []
        for job_id in self.jobs.pending_before(self.clock() - self.grace_s):
            published.extend(self.flush(job_id))
            if not self.jobs.get(job_id).outbox:
                self.jobs.mark_published(job_id, "completed")  # a job left indexed by a crash: cleared
        return published

    def _event(self, job: Job, fact: str) -> Event:
        if fact == "completed":
            # the job's failed counter moves in the same write as each failed frame's record: 0 means none to read
            return completed_event(job, self.jobs.failed_frames(job.job_id) if job.failed else [])
        if fact == "estimated":
            return estimated_event(job)
        return JobApproved(
            job_id=job.job_id, by=job.approved_by, requested_by=job.requested_by, channel=job.channel
        )


def completed_event(job: Job, failed_frames: list[int]) -> JobCompleted:
    """The JobCompleted event for a job in its final state."""
    return JobCompleted(
        job_id=job.job_id,
        status=str(job.status),
        scene_key=job.scene_key,
        done=job.done,
        failed=job.failed,
        total=job.total,
        failed_frames=failed_frames,
        output_bucket=job.output_bucket,
        output_prefix=job.output_prefix,
        created_at=job.created_at,
        finished_at=job.finished_at or 0.0,
        requested_by=job.requested_by,
        channel=job.channel,
        missing_allowed=job.missing_allowed,
    )


def estimated_event(job: Job) -> JobEstimated:
    """The JobEstimated event of a job its probes estimated."""
    assert job.estimate is not None
    return JobEstimated(
        job_id=job.job_id,
        estimated_cost_usd=job.estimate.cost_usd,
        estimated_eta_s=job.estimate.eta_s,
        approval=job.approval,
        reason=job.approval_reason,
        requested_by=job.requested_by,
        channel=job.channel,
    )
