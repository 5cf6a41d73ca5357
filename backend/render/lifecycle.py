"""A render job's life in one place: its states, and every transition as one table (`TRANSITIONS`).

                     ┌────────────── SUBMIT (to QUEUED: nothing to probe) ───────────────┐
                     │                                                                   ▼
 create ──► AWAITING_APPROVAL ──SUBMIT (to RUNNING: estimated)──► RUNNING ◄──START─── QUEUED ◄── create
   │           │    ▲    └──EXPIRE (nobody in time)──► EXPIRED      ▲   │                  │
   │     SUBMIT│    │ESTIMATE (someone must agree)                  │   └──FINISH──┬───────┘
   │           ▼    │                                               │              ▼
   └───────► PROBING ──ESTIMATE (nobody must agree)─────────────────┘    DONE | DONE_WITH_FAILURES
               │ ├──REPLAN (its frames are too long: tiles from now on, once)──► PROBING
               │ └──FAIL (a probe frame failed)──► FAILED
 QUEUED, RUNNING ──HOLD (its submitter, an admin, the budget guard)──► HELD ──RESUME──► QUEUED | RUNNING
 HELD ──FINISH (the frames in hand were its last)──► DONE | DONE_WITH_FAILURES
 QUEUED, PROBING, AWAITING_APPROVAL, RUNNING, HELD ──CANCEL (its submitter, or an admin)──► CANCELLED

Each row says from which states an event moves a job, to which (the caller picks one of the row's), what else must
hold (`Condition`), and which fact it puts in the job's outbox in the same write (`backend.render.outbox`
publishes it). The DynamoDB store builds each conditional write from its row (`backend.render.store.transitions`),
and the tests' in-memory fake decides from the same rows, so each rule is written once. Who drives each event:
the worker (START, as it takes a task), `backend.render.job_life.JobLifecycle` (REPLAN and FINISH as frames are
recorded; SUBMIT; CANCEL, HOLD and RESUME from the desk or the budget guard), `backend.render.fanout` (ESTIMATE
and FAIL once the probes are in, SUBMIT's checks, EXPIRE from the sweep). A held job's queued tasks are dropped by
the worker that takes them (the job is HELD, or their generation is older than the job's). The enqueue leases, the
device note, the notice claims and a new priority change no status and are not in the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from backend.errors import ConflictError
from backend.render.records import ACTIVE, FINAL, Job, JobStatus

__all__ = [
    "ACTIVE",
    "FACTS",
    "FINAL",
    "TRANSITIONS",
    "Condition",
    "Event",
    "JobStatus",
    "Transition",
    "allows",
    "finished_as",
    "not_held",
    "not_holdable",
    "nothing_to_cancel",
    "resumed_to",
    "row",
    "submitted_to",
]

COMPLETED, ESTIMATED, APPROVED = "completed", "estimated", "approved"
FACTS = (COMPLETED, ESTIMATED, APPROVED)  # what a job's outbox may hold, in the order it is published


class Event(StrEnum):
    """What happens to a job: each is one conditional write that one caller wins."""

    START = "start"  # its first frame starts rendering
    ESTIMATE = "estimate"  # its probe frames are in: the estimate, and on or wait for Submit
    REPLAN = "replan"  # a probe predicts frames too long for the render function: tiles from now on
    FAIL = "fail"  # a probe frame failed: nothing more is spent
    SUBMIT = "submit"  # someone pressed Submit
    EXPIRE = "expire"  # nobody pressed Submit in time
    FINISH = "finish"  # no frame is left to render
    CANCEL = "cancel"  # its submitter (or an admin) stopped it
    HOLD = "hold"  # it takes no new frames: the frames in hand finish and count, its queued tasks are dropped
    RESUME = "resume"  # its frames not yet rendered are queued again (a new generation of tasks)


@dataclass(frozen=True)
class Condition:
    """What must hold of the job besides its status: `attribute op operand`, where the attribute is the job's
    field and its item's attribute alike, and a text operand names a value the caller passes (`cutoff`)."""

    attribute: str
    op: str  # "=", "<=", or "unset" (the attribute is absent or empty; no operand)
    operand: float | str | None = None

    def holds(self, job: Job, params: Mapping[str, float]) -> bool:
        """Whether the job meets it (a missing attribute meets only "unset", as in DynamoDB)."""
        value = getattr(job, self.attribute)
        if self.op == "unset":
            return not value
        if value is None:
            return False
        bound = params[self.operand] if isinstance(self.operand, str) else self.operand
        assert bound is not None
        return bool(value == bound) if self.op == "=" else bool(value <= bound)

    def __str__(self) -> str:
        return (
            f"{self.attribute} unset" if self.op == "unset" else f"{self.attribute} {self.op} {self.operand}"
        )


@dataclass(frozen=True)
class Transition:
    """One row: from any of `sources`, `event` moves a job to one of `targets` (the caller picks which), when
    `condition` holds too, recording `fact` ("" for none) in its outbox in the same write."""

    sources: tuple[JobStatus, ...]
    event: Event
    targets: tuple[JobStatus, ...]
    condition: Condition | None = None
    fact: str = ""


Q, P, A, R = JobStatus.QUEUED, JobStatus.PROBING, JobStatus.AWAITING_APPROVAL, JobStatus.RUNNING
H = JobStatus.HELD

TRANSITIONS: tuple[Transition, ...] = (
    Transition((Q,), Event.START, (R,)),
    Transition((P,), Event.ESTIMATE, (R, A), fact=ESTIMATED),
    Transition((P,), Event.REPLAN, (P,), Condition("replanned", "unset")),
    Transition((P,), Event.FAIL, (JobStatus.FAILED,), fact=COMPLETED),
    Transition((A,), Event.SUBMIT, (P, Q, R), fact=APPROVED),
    Transition(
        (A,), Event.EXPIRE, (JobStatus.EXPIRED,), Condition("awaiting_since", "<=", "cutoff"), COMPLETED
    ),
    Transition(
        (Q, R, H),
        Event.FINISH,
        (JobStatus.DONE, JobStatus.DONE_WITH_FAILURES),
        Condition("remaining", "=", 0),
        COMPLETED,
    ),
    Transition(ACTIVE, Event.CANCEL, (JobStatus.CANCELLED,), fact=COMPLETED),
    Transition((Q, R), Event.HOLD, (H,)),
    Transition((H,), Event.RESUME, (Q, R)),
)

_ROWS = {transition.event: transition for transition in TRANSITIONS}
assert len(_ROWS) == len(TRANSITIONS) == len(Event), "one row per event"
assert all(fact in FACTS for fact in (transition.fact for transition in TRANSITIONS) if fact)


def row(event: Event) -> Transition:
    """The table's row for an event."""
    return _ROWS[event]


def allows(event: Event, job: Job, to: JobStatus, **params: float) -> bool:
    """Whether `event` may move `job`, as it stands, to `to` (ValueError: the table never moves it there)."""
    transition = row(event)
    if to not in transition.targets:
        raise ValueError(f"{event} never moves a job to {to}")
    if job.status not in transition.sources:
        return False
    return transition.condition is None or transition.condition.holds(job, params)


def finished_as(job: Job) -> JobStatus:
    """Where FINISH takes a job: DONE, or DONE_WITH_FAILURES when any frame failed."""
    return JobStatus.DONE if job.failed == 0 else JobStatus.DONE_WITH_FAILURES


def submitted_to(job: Job) -> JobStatus:
    """Where SUBMIT takes a job: its probes first (not estimated yet), the rest (estimated), or all of it."""
    if job.probe_frames and job.estimate is None:
        return JobStatus.PROBING
    return JobStatus.RUNNING if job.estimate is not None else JobStatus.QUEUED


def resumed_to(job: Job) -> JobStatus:
    """Where RESUME takes a held job: RUNNING once a frame of it has started, else QUEUED."""
    return JobStatus.RUNNING if job.started_at is not None else JobStatus.QUEUED


def not_holdable(job: Job) -> ConflictError:
    """The refusal of HOLD for a job that is not queued or rendering."""
    if job.status is JobStatus.HELD:
        return ConflictError(
            f"`{job.job_id}` is held already: `/render resume {job.job_id}` takes it on again."
        )
    state = str(job.status).replace("_", " ")
    return ConflictError(f"`{job.job_id}` is {state}: only a queued or rendering job can be held.")


def not_held(job: Job) -> ConflictError:
    """The refusal of RESUME for a job nobody holds."""
    state = str(job.status).replace("_", " ")
    return ConflictError(f"`{job.job_id}` is not held (it is {state}): nothing to resume.")


def nothing_to_cancel(job: Job) -> ConflictError:
    """The refusal of CANCEL for a job that is over."""
    return ConflictError(f"Job `{job.job_id}` is already {job.status.replace('_', ' ')}: nothing to cancel.")
