"""What the channel should hear about a job, decided by the render side: the notifier asks, then only posts.

Each question reads the job once and claims what it answers with a conditional write, so SNS's at-least-once
delivery never makes a second post; a claim whose post failed is given back, so the redelivery posts it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from backend.config import CLI_CHANNEL
from backend.events import Event, JobApproved, JobCompleted, JobEstimated
from backend.render.ports import JobQueries, NoticeBook
from backend.render.records import FrameOutcome, FrameRecord, Job, JobStatus

ESTIMATE, APPROVED = "estimate", "approved"  # the thread notices a job may get, each at most once


@dataclass(frozen=True)
class Notice:
    """A thread reply to post under the card: the estimate asks for Submit, or Submit was pressed (`by`)."""

    kind: str
    job: Job
    by: str = ""


@dataclass(frozen=True)
class Completion:
    """A job that ended, claimed for its one announcement, with what failed and why."""

    job: Job
    failed_frames: list[int] = field(default_factory=list)
    reasons: dict[int, str] = field(default_factory=dict)

    @property
    def has_channel(self) -> bool:
        """A job submitted from the CLI has no channel to tell."""
        return self.job.channel not in ("", CLI_CHANNEL)


class AnnouncedJobs(JobQueries, NoticeBook, Protocol):
    """What the announcer needs of the job store: the job, its notice claims, and its frames (why each failed)."""

    def frames(self, job_id: str, first: int | None = None, last: int | None = None) -> list[FrameRecord]: ...


class Announcer:
    """The job-store side of every announcement: which notice to post, which end to tell (where the card is, and
    when it changed, is the notifier's: `bot.cards`)."""

    def __init__(self, jobs: AnnouncedJobs) -> None:
        self.jobs = jobs

    def notice(self, event: JobEstimated | JobApproved) -> Notice | None:
        """The thread notice this event calls for, claimed once; None when it is not needed or said already.
        An estimate is said only while the job waits for Submit (otherwise it went on and the card says enough)."""
        job = self.jobs.get(event.job_id)
        if isinstance(event, JobEstimated):
            if job.status is not JobStatus.AWAITING_APPROVAL:
                return None
            kind, by = ESTIMATE, ""
        else:
            kind, by = APPROVED, event.by
        return Notice(kind, job, by) if self.jobs.claim_notice(job.job_id, kind) else None

    def notice_not_posted(self, notice: Notice) -> None:
        """Give the notice's claim back, so the next delivery posts it."""
        self.jobs.release_notice(notice.job.job_id, notice.kind)

    def completion(self, job_id: str) -> Completion | None:
        """The ended job, claimed for its one announcement (None when another delivery has it), with its failed
        frames and their reasons from one read of its frame records (none when no frame failed)."""
        job = self.jobs.claim_completion(job_id)  # the claim's write returns the job: nothing read after
        if job is None:
            return None
        try:
            if not Completion(job).has_channel:
                return Completion(job)  # nobody to tell, so no frames to read
            # the failed counter moves in the same write as each failed frame's record: 0 means none to read
            reasons = self.failures(job_id) if job.failed else {}
        except Exception:
            self.jobs.release_completion_notice(job_id)
            raise
        return Completion(job, sorted(reasons), reasons)

    def failures(self, job_id: str) -> dict[int, str]:
        """Why each failed frame of the job failed, in frame order (for the terminal and the stack log)."""
        records = self.jobs.frames(job_id)
        return {record.frame: record.error for record in records if record.outcome is FrameOutcome.FAILED}

    def completion_not_posted(self, job_id: str) -> None:
        """Give the announcement's claim back, so the next delivery makes it."""
        self.jobs.release_completion_notice(job_id)

    def ask_for_submit(self, job: Job) -> Notice | None:
        """The thread must ask for Submit at once when a job is held before anything rendered (the budget
        guard, the size of the job): the notice, claimed once, or None."""
        if job.status is not JobStatus.AWAITING_APPROVAL or not self.jobs.claim_notice(job.job_id, ESTIMATE):
            return None
        return Notice(ESTIMATE, job)

    def first_telling(self, event: Event, where: str) -> bool:
        """Whether `where` (the stack log) tells of this job's fact for the first time: a job's end, estimate or
        Submit is told once per place however often it is delivered; other events are not a job's facts."""
        if not isinstance(event, JobCompleted | JobEstimated | JobApproved):
            return True
        return self.jobs.claim_notice(event.job_id, f"{where}_{type(event).type}")

    def first_telling_of(self, job_id: str, what: str) -> bool:
        """Whether this is the first time `what` (an apology in the thread) is said about the job: once, ever."""
        return self.jobs.claim_notice(job_id, what)

    def current(self, job_id: str) -> Job:
        """The job as it stands now (after a wait, it may have moved on)."""
        return self.jobs.get(job_id)
