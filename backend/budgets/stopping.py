"""What the budget guard does to the farm when actual spend passes a limit, by setting (`budget_action`, Deadline's
two actions beside asking): `ask` (the default) only asks an admin for new renders; `stop-and-finish` holds every
queued or rendering job (the frames in hand finish and count; an admin resumes each with `/render resume JOB`);
`stop-and-cancel` cancels every job still going. The jobs are found by the month index (this month's and the last),
never by a scan, and each is held or cancelled by its own conditional write (`backend.render.lifecycle`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from backend.errors import ConflictError
from backend.render.lifecycle import Event, row
from backend.render.records import Job, JobStatus
from backend.render.spend import month_of

ASK, STOP_AND_FINISH, STOP_AND_CANCEL = "ask", "stop-and-finish", "stop-and-cancel"
BUDGET_ACTIONS = (ASK, STOP_AND_FINISH, STOP_AND_CANCEL)
BUDGET_GUARD = "the budget guard"  # who holds the jobs it holds (`Job.held_by`)
_HOLDS = row(Event.HOLD).sources  # what a hold takes
# What a cancel takes, but for a job awaiting Submit: it spends nothing until someone presses it.
_CANCELS = tuple(status for status in row(Event.CANCEL).sources if status is not JobStatus.AWAITING_APPROVAL)


class MonthJobs(Protocol):
    """The jobs created in a month (the job store's by_month index)."""

    def month_jobs(self, month: str) -> list[Job]: ...


class Steering(Protocol):
    """Holding and cancelling a job (`backend.render.job_life.JobLifecycle`)."""

    def hold(self, job_id: str, by: str) -> Job: ...
    def cancel(self, job_id: str) -> Job: ...


@dataclass(frozen=True)
class Stopped:
    """What the guard did: the action ("" when it only asks), and the jobs it held or cancelled (oldest first)."""

    action: str = ""
    held: tuple[str, ...] = ()
    cancelled: tuple[str, ...] = ()


class FarmStopper:
    """Carries out `budget_action` on the jobs still going."""

    def __init__(
        self, action: str, jobs: MonthJobs, steering: Steering, clock: Callable[[], float] = time.time
    ) -> None:
        self.action = action if action in BUDGET_ACTIONS else ASK
        self.jobs = jobs
        self.steering = steering
        self.clock = clock

    def stop(self) -> Stopped:
        """Hold or cancel every job still going (nothing for `ask`); a job that moved on meanwhile is left alone.
        A job the guard held already (a notification delivered again) is listed again."""
        if self.action == ASK:
            return Stopped()
        held: list[str] = []
        cancelled: list[str] = []
        for job in self._going():
            if self.action == STOP_AND_CANCEL and job.status in _CANCELS:
                if self._did(self.steering.cancel, job.job_id):
                    cancelled.append(job.job_id)
            elif self.action == STOP_AND_FINISH and self._held(job):
                held.append(job.job_id)
        return Stopped(self.action, tuple(held), tuple(cancelled))

    def _going(self) -> list[Job]:
        """This month's jobs and last month's (a job may run over the month's end), oldest first."""
        now = self.clock()
        last_month = now - time.gmtime(now).tm_mday * 86400  # a day before this month began
        months = dict.fromkeys([month_of(last_month), month_of(now)])
        jobs = [job for month in months for job in self.jobs.month_jobs(month)]
        return sorted((job for job in jobs if not job.status.is_final), key=lambda job: job.created_at)

    def _held(self, job: Job) -> bool:
        """Hold the job; True when held now, or by the guard already."""
        if job.status is JobStatus.HELD:
            return job.held_by == BUDGET_GUARD
        return job.status in _HOLDS and self._did(self.steering.hold, job.job_id, BUDGET_GUARD)

    @staticmethod
    def _did(step: Callable[..., Job], *args: str) -> bool:
        """Whether the step moved the job (False: it ended or moved meanwhile)."""
        try:
            step(*args)
        except ConflictError:
            return False
        return True
