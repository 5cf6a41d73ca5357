"""What a person does with render jobs from chat or the terminal: submit (once), status, list, cancel, retry, Submit.

The rules live here, not in the listeners: who may manage a job (its submitter or an admin), that the same command
re-sent within minutes is one job, and that the thread asks whoever must press Submit exactly once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from backend.config import Access
from backend.errors import NotFoundError, PermissionDenied
from backend.render.fanout import Fanout
from backend.render.grammar import RenderRequest
from backend.render.ports import JobStore
from backend.render.progress import JobReporter
from backend.render.records import Job, job_id_for
from backend.render.submit import Submission, SubmissionService

RESEND_WINDOW_S = 120


def resend_tokens(user_id: str, channel_id: str, text: str, now: float) -> tuple[str, str]:
    """Client tokens for this window and the one before: the same command re-sent within minutes is one job."""
    window = int(now // RESEND_WINDOW_S)
    normalized = " ".join(text.split())
    current, previous = (
        hashlib.sha256(f"slack|{user_id}|{channel_id}|{normalized}|{w}".encode()).hexdigest()
        for w in (window, window - 1)
    )
    return current, previous


@dataclass(frozen=True)
class AlreadySent:
    """The same words came from the same person in the same channel a moment ago: their job, nothing new queued."""

    job: Job


class JobDesk:
    """The one service behind `/render` and `studiobot render`: listeners parse, acknowledge and call it."""

    def __init__(
        self,
        jobs: JobStore,
        submissions: SubmissionService,
        fanout: Fanout,
        reporter: JobReporter,
        access: Access,
        clock: Callable[[], float],
    ) -> None:
        self.jobs = jobs
        self.submissions = submissions
        self.fanout = fanout
        self.reporter = reporter
        self.access = access
        self.clock = clock

    def submit_typed(
        self, request: RenderRequest, user: str, channel: str, text: str
    ) -> Submission | AlreadySent:
        """Submit what someone typed; the same words from them in this channel within minutes are the same job."""
        current, previous = resend_tokens(user, channel, text, self.clock())
        if not request.dry_run:
            earlier = self._find(job_id_for(previous))
            if earlier is not None:
                return AlreadySent(earlier)
        return self.submissions.submit(request, requested_by=user, channel=channel, client_token=current)

    def job_for(self, user: str, job_id: str, verb: str) -> Job:
        """The job, if this user submitted it or is an admin; PermissionDenied saying who may `verb` it."""
        job = self.jobs.get(job_id)
        if not self.access.may_manage(user, job.requested_by):
            raise PermissionDenied(
                f"Only <@{job.requested_by}> (who submitted `{job_id}`) or an admin can {verb} it."
            )
        return job

    def latest(self, user: str, channel: str, job_id: str | None) -> Job | None:
        """The job asked about, or this user's latest in the channel (None when they have none)."""
        if job_id is not None:
            return self.jobs.get(job_id)
        mine = [job for job in self.jobs.recent(channel) if job.requested_by == user]
        return mine[0] if mine else None

    def recent(self, channel: str) -> list[Job]:
        """The channel's recent jobs, newest first."""
        return self.jobs.recent(channel)

    def cancel(self, user: str, job_id: str) -> Job:
        """Cancel a job its submitter (or an admin) wants stopped, and announce its end."""
        self.job_for(user, job_id, "cancel")
        return self.reporter.cancel(job_id)

    def retry(
        self, user: str, job_id: str, asked_in: str, announce_in: str | None = None
    ) -> tuple[Job, Submission]:
        """A new job for a finished job's failed frames, announced in `announce_in` (default: the first job's
        channel, else where it was asked); asking again returns that same retry job."""
        job = self.job_for(user, job_id, "retry")
        failed = self.jobs.failed_frames(job_id)
        channel = announce_in or job.channel or asked_in
        return job, self.submissions.retry(job, failed, requested_by=user, channel=channel)

    def submit(self, user: str, job_id: str) -> Job:
        """Press Submit on a job that waits for it (who may is the fan-out's rule)."""
        return self.fanout.approve(job_id, user)

    def _find(self, job_id: str) -> Job | None:
        try:
            return self.jobs.get(job_id)
        except NotFoundError:
            return None
