"""What a person's Home tab shows, as facts: their running and recent jobs, the farm now (tasks waiting and taken
per render class, GPU nodes up, jobs held), their workstations and this month's spend with the budget guard
(`bot.messages.home` words them). Each part is read through a narrow port; a part that cannot be read is None (the
Home says so) and never stops the others."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

from aws_lambda_powertools import Logger

from backend.budgets.service import BudgetStatus
from backend.render.queue_position import ActiveJobs
from backend.render.records import Job
from backend.render.spend import month_of
from backend.render.tasks import CPU, GPU

if TYPE_CHECKING:
    from backend.budgets.guard import GuardState
    from backend.budgets.provider import Budget
    from backend.workstations.service import StatusRow

logger = Logger(service="studiobot-home")
ASK_S = 5.0  # on opening: how long their running workstations have to say who is connected
JOBS = 8  # a person's jobs on their Home: the running ones first, then the most recent that ended
WORKSTATIONS = 10  # a person's workstations on their Home (by name)
CLASSES = (CPU, GPU)
Part = TypeVar("Part")


class HomeJobs(ActiveJobs, Protocol):
    """What the Home reads of the job store: each class's active jobs, and the month's jobs (`by_month`)."""

    def month_jobs(self, month: str) -> list[Job]: ...


class LaneCounts(Protocol):
    """How many tasks a lane holds (`backend.aws.queue_depths.QueueDepths`)."""

    def waiting_and_taken(self, queue_url: str) -> tuple[int, int]: ...


class NodesPresent(Protocol):
    """Which render nodes of a class are there now (`backend.render.store.roster.NodeRoster`)."""

    def present(self, render_class: str) -> list[str]: ...


class OwnedWorkstations(Protocol):
    """The workstations of one owner (`backend.workstations.service.WorkstationService`)."""

    def status(
        self,
        ask_page: tuple[int, int] | None = None,
        wait_s: float = 8.0,
        owner: str | None = None,
        observe: bool = True,
    ) -> list[StatusRow]: ...


class Budgets(Protocol):
    """The account's budgets (`backend.budgets.provider.AwsBudgets`)."""

    def all(self) -> list[Budget]: ...


class GuardReader(Protocol):
    """The budget guard's state (`backend.budgets.guard.BudgetGuard`)."""

    def state(self) -> GuardState: ...


@dataclass(frozen=True)
class KnownBudgets:
    """The budgets as read when the person last opened their Home: an event's refresh may not read AWS Budgets."""

    budgets: list[Budget]
    read_at: float


@dataclass(frozen=True)
class ClassLoad:
    """One render class now: its tasks waiting and taken by workers (all its lanes), its jobs held."""

    render_class: str
    waiting: int
    taken: int
    jobs_held: int


@dataclass(frozen=True)
class FarmNow:
    """The farm now: each class's load (None: SQS could not be read), and the GPU nodes up (None: unknown)."""

    classes: tuple[ClassLoad, ...]
    gpu_nodes: int | None
    counted: bool = True  # False: the queues could not be read, the counts are the jobs' only


@dataclass(frozen=True)
class Home:
    """Everything one person's Home tab shows, read at `now`; a part that could not be read is None."""

    user: str
    now: float
    jobs: tuple[Job, ...] | None
    farm: FarmNow | None
    workstations: tuple[StatusRow, ...] | None
    spend: BudgetStatus | None
    asked: bool = False  # whether the running workstations were asked who is connected
    budgets_read_at: float | None = (
        None  # when the budgets were read, if not now (the last time Home was opened)
    )


class HomeFacts:
    """Reads a person's Home: one Query of each class's active jobs, one of the month's jobs, the lanes' counts,
    the node roster, one EC2 describe, the budgets and the guard."""

    def __init__(
        self,
        jobs: HomeJobs,
        lanes: Mapping[str, Sequence[str]],  # render class → its lanes' queue URLs
        counts: LaneCounts,
        nodes: NodesPresent,
        workstations: OwnedWorkstations,
        budgets: Budgets,
        guard: GuardReader,
        clock: Callable[[], float],
    ) -> None:
        self.jobs = jobs
        self.lanes = lanes
        self.counts = counts
        self.nodes = nodes
        self.workstations = workstations
        self.budgets = budgets
        self.guard = guard
        self.clock = clock

    def home(self, user: str, opened: bool, known: KnownBudgets | None = None) -> Home:
        """`user`'s Home now. `opened` (they are looking): their running workstations are asked who is connected
        (`ASK_S`), the leases brought up to date and the budgets read; else (an event's refresh) the workstations
        are read only and the budgets are those `known` from the last opening (None: not known)."""
        now = self.clock()
        active = _read("active jobs", lambda: {c: self.jobs.active_jobs(c) for c in CLASSES})
        mine = _read("the month's jobs", lambda: self._jobs_of(user, active or {}, now))
        farm = _read("the farm", lambda: self._farm(active)) if active is not None else None
        asking = (1, WORKSTATIONS) if opened else None
        rows = _read(
            "workstations",
            lambda: tuple(self.workstations.status(asking, ASK_S, owner=user, observe=opened)),
        )
        budgets = _read("budgets", self.budgets.all) if opened else (known.budgets if known else None)
        guard = _read("the budget guard", self.guard.state)
        spend = BudgetStatus(budgets, guard) if budgets is not None and guard is not None else None
        read_at = None if opened or known is None else known.read_at
        return Home(user, now, mine, farm, rows, spend, asked=opened, budgets_read_at=read_at)

    def _jobs_of(self, user: str, active: Mapping[str, list[Job]], now: float) -> tuple[Job, ...]:
        """Their jobs still going (oldest first), then those that ended this month (newest first)."""
        going = sorted(
            (job for jobs in active.values() for job in jobs if job.requested_by == user),
            key=lambda job: job.created_at,
        )
        ended = sorted(
            (
                job
                for job in self.jobs.month_jobs(month_of(now))
                if job.requested_by == user and job.status.is_final
            ),
            key=lambda job: job.created_at,
            reverse=True,
        )
        return tuple([*going, *ended][:JOBS])

    def _farm(self, active: Mapping[str, list[Job]] | None) -> FarmNow:
        """Each class's tasks (from its lanes; the jobs' own counts where SQS cannot be read) and GPU nodes."""
        active = active or {}
        loads, counted = [], True
        for render_class in CLASSES:
            jobs = active.get(render_class, [])
            held = sum(1 for job in jobs if job.held_by)
            try:
                measured = [self.counts.waiting_and_taken(url) for url in self.lanes.get(render_class, ())]
                waiting, taken = sum(m[0] for m in measured), sum(m[1] for m in measured)
            except Exception as error:  # unknown is said as unknown: the jobs' frames still to render
                logger.warning("lanes not counted", render_class=render_class, error=repr(error))
                counted = False
                waiting, taken = sum(job.remaining for job in jobs if not job.held_by), 0
            loads.append(ClassLoad(render_class, waiting, taken, held))
        nodes = _read("GPU nodes", lambda: len(self.nodes.present(GPU)))
        return FarmNow(tuple(loads), nodes, counted)


def _read(what: str, read: Callable[[], Part]) -> Part | None:
    """A part of the Home, or None (logged) when it cannot be read now: the rest still shows."""
    try:
        return read()
    except Exception as error:
        logger.warning("home part not read", part=what, error=repr(error))
        return None
