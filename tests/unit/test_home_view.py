"""The Home tab's view (`bot.messages.home`) at any size Slack accepts: slack_sdk's models, the Home tab's 100 blocks,
every text within its limit and escaped, whatever the person's jobs, workstations, the farm and the budgets hold;
and the facts behind it (`backend.render.home.HomeFacts`) read from narrow fakes, a part that fails left out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st
from slack_sdk.models.views import View

from backend.budgets.guard import GuardState
from backend.budgets.provider import Budget
from backend.budgets.service import BudgetStatus
from backend.render.home import ClassLoad, FarmNow, Home, HomeFacts, KnownBudgets
from backend.render.records import Job, JobStatus
from backend.workstations.service import StatusRow
from bot.messages import home
from tests.unit.block_kit import _walk, assert_block
from tests.unit.extremes import BUDGETS, EXTREMES, GUARDS, ROWS, jobs, many
from tests.unit.test_blocks import NOW, _job

HOME_BLOCKS = 100  # Slack's limit for a Home tab (Block Kit reference), written out here on purpose


def assert_home(view: dict[str, Any]) -> None:
    """A Home tab Slack would publish: slack_sdk's View, at most 100 blocks, each valid, unique block ids."""
    View(**view).validate_json()
    assert view["type"] == "home" and 1 <= len(view["blocks"]) <= HOME_BLOCKS, len(view["blocks"])
    _walk(view, "home", "view")
    for block in view["blocks"]:
        assert_block(block)
    ids = [block["block_id"] for block in view["blocks"] if "block_id" in block]
    assert len(ids) == len(set(ids))


LOADS = st.builds(
    ClassLoad,
    render_class=st.sampled_from(["cpu", "gpu"]),
    waiting=st.integers(0, 10**9),
    taken=st.integers(0, 10**6),
    jobs_held=st.integers(0, 10**4),
)
FARMS = st.none() | st.builds(
    FarmNow,
    classes=st.lists(LOADS, max_size=2).map(tuple),
    gpu_nodes=st.none() | st.integers(0, 10**4),
    counted=st.booleans(),
)
SPENDS = st.none() | st.builds(BudgetStatus, budgets=many(BUDGETS, 200), guard=GUARDS)


@given(
    job_list=st.none() | many(jobs(), 60).map(tuple),
    rows=st.none() | many(ROWS, 300).map(tuple),
    farm=FARMS,
    spend=SPENDS,
    asked=st.booleans(),
    read_at=st.none() | st.floats(0, 4e9),
)
@example(
    job_list=tuple(
        _job(job_id=f"r{index:09d}", status=JobStatus.DONE_WITH_FAILURES, scene_key="&" * 1_024)
        for index in range(60)
    ),
    rows=tuple(
        StatusRow("<" * 256, "U0ARTIST", "running", None, timedelta(hours=1), True) for _ in range(300)
    ),
    farm=FarmNow((ClassLoad("cpu", 10**9, 10**6, 10**4),), None, False),
    spend=BudgetStatus([Budget("&" * 100, 1e12, 1e12, None)] * 200, GuardState(True, "<" * 300, ">" * 2000)),
    asked=True,
    read_at=NOW - 3600,
)
@EXTREMES
def test_the_home_tab_fits_slacks_limits_whatever_it_shows(
    job_list: tuple[Job, ...] | None,
    rows: tuple[StatusRow, ...] | None,
    farm: FarmNow | None,
    spend: BudgetStatus | None,
    asked: bool,
    read_at: float | None,
) -> None:
    view = home.home_view(Home("U0ARTIST", NOW, job_list, farm, rows, spend, asked, read_at))
    assert_home(view)
    assert len(view["blocks"]) <= home.MOST_BLOCKS <= HOME_BLOCKS


def test_three_jobs_and_two_workstations_each_show_what_the_issue_asks_with_their_buttons() -> None:
    running = _job(job_id="r0running0", estimate=None, billed_s=3600.0, fanned_out_at=1_800_000_030.0)
    failed = _job(
        job_id="r0failed00", status=JobStatus.DONE_WITH_FAILURES, done=238, failed=2, finished_at=NOW - 60
    )
    queued = _job(job_id="r0queued00", status=JobStatus.QUEUED, done=0, failed=0, started_at=None)
    rows = (
        StatusRow("anim-01", "U0ARTIST", "running", timedelta(hours=1), timedelta(hours=10), False),
        StatusRow("anim-02", "U0ARTIST", "stopped", None, None, False),
    )
    farm = FarmNow((ClassLoad("cpu", 120, 8, 1), ClassLoad("gpu", 0, 0, 0)), 2)
    spend = BudgetStatus([Budget("studio-monthly", 1000.0, 830.0, 990.0)], GuardState())
    view = home.home_view(Home("U0ARTIST", NOW, (running, failed, queued), farm, rows, spend, asked=False))
    assert_home(view)
    texts = [str(block) for block in view["blocks"]]
    whole = "\n".join(texts)
    assert "▰" in whole and "ETA" in whole and "cost so far $" in whole
    buttons = {
        (element["action_id"], element["value"])
        for block in view["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    }
    assert buttons == {
        (home.JOB_CANCEL, "r0running0"),
        (home.JOB_CANCEL, "r0queued00"),
        (home.JOB_RETRY, "r0failed00"),
        (home.JOB_MOVIE, "r0failed00"),
        (home.WS_EXTEND, "anim-01"),
        (home.WS_STOP, "anim-01"),
        (home.WS_START, "anim-02"),
    }
    assert "*CPU*: 120 tasks waiting · 8 rendering · 1 job held" in whole
    assert "*GPU nodes up*: 2" in whole
    assert "expires in 10 h" in whole and "$830.00 of $1,000.00 (83 %)" in whole
    assert "Budget guard off" in whole


class _Jobs:
    def __init__(self, jobs: list[Job]) -> None:
        self.jobs = jobs

    def active_jobs(self, render_class: str) -> list[Job]:
        return [j for j in self.jobs if not j.status.is_final and j.settings.render_class == render_class]

    def month_jobs(self, month: str) -> list[Job]:
        return list(self.jobs)


class _Lanes:
    def waiting_and_taken(self, queue_url: str) -> tuple[int, int]:
        if queue_url.endswith("gpu"):
            raise RuntimeError("SQS is down")
        return 5, 2


class _Nodes:
    def present(self, render_class: str) -> list[str]:
        return ["gpu-a", "gpu-b"] if render_class == "gpu" else []


class _Workstations:
    asked: list[tuple[Any, float, str | None, bool]]

    def __init__(self) -> None:
        self.asked = []

    def status(
        self,
        ask_page: tuple[int, int] | None = None,
        wait_s: float = 8.0,
        owner: str | None = None,
        observe: bool = True,
    ) -> list[StatusRow]:
        self.asked.append((ask_page, wait_s, owner, observe))
        return [StatusRow("anim-01", "U0ARTIST", "running", None, None, False)]


class _NoBudgets:
    calls = 0

    def all(self) -> list[Budget]:
        self.calls += 1
        raise RuntimeError("Budgets is down")


class _Guard:
    def state(self) -> GuardState:
        return GuardState(on=True, by="U0ADMIN", reason="over", changed_at=NOW - 60)


def test_the_facts_are_the_persons_own_and_a_part_that_cannot_be_read_is_left_out() -> None:
    mine_running = _job(job_id="r0mine0001", created_at=NOW - 100)
    mine_done = _job(job_id="r0mine0002", status=JobStatus.DONE, created_at=NOW - 50)
    mine_old = _job(job_id="r0mine0003", status=JobStatus.CANCELLED, created_at=NOW - 500)
    theirs = _job(job_id="r0theirs01", requested_by="U0OTHER", held_by="U0ADMIN")
    facts = HomeFacts(
        _Jobs([mine_running, mine_done, mine_old, theirs]),
        {"cpu": ["q-normal", "q-urgent"], "gpu": ["q-gpu"]},
        _Lanes(),
        _Nodes(),
        workstations := _Workstations(),
        budgets := _NoBudgets(),
        _Guard(),
        lambda: NOW,
    )
    seen = facts.home("U0ARTIST", opened=True)
    assert seen.jobs is not None
    going_then_newest = ["r0mine0001", "r0mine0002", "r0mine0003"]
    assert [job.job_id for job in seen.jobs] == going_then_newest
    assert seen.farm is not None and seen.farm.gpu_nodes == 2 and not seen.farm.counted
    cpu, gpu = seen.farm.classes
    assert (cpu.waiting, cpu.taken, cpu.jobs_held) == (10, 4, 1)
    assert gpu == ClassLoad("gpu", 0, 0, 0)  # SQS down: the gpu jobs' own frames (none)
    assert workstations.asked == [((1, 10), 5.0, "U0ARTIST", True)] and seen.asked
    assert seen.spend is None and budgets.calls == 1  # and the view says so
    assert "could not be read just now" in str(home.home_view(seen)["blocks"])
    # an event's refresh: nobody asked, the leases read only, AWS Budgets not asked (its role may not)
    known = KnownBudgets([Budget("studio-monthly", 1000.0, 830.0, None)], NOW - 600)
    refreshed = facts.home("U0ARTIST", opened=False, known=known)
    assert workstations.asked[-1] == (None, 5.0, "U0ARTIST", False) and not refreshed.asked
    assert budgets.calls == 1 and refreshed.spend is not None and refreshed.budgets_read_at == NOW - 600
    assert refreshed.spend.guard.on  # the guard is read every time
    assert "when you opened this tab" in str(home.home_view(refreshed)["blocks"])
    assert facts.home("U0ARTIST", opened=False).spend is None  # never read: not known


def test_the_spend_bar_is_full_at_or_past_a_limit_however_small() -> None:
    """The property test found a limit of 5e-324: 1.0 / 5e-324 is infinite and round() raised."""
    from bot.messages.home import spend_bar

    assert spend_bar(1.0, 5e-324) == "▰" * 10
    assert spend_bar(0.0, 5e-324) == "▱" * 10
    assert spend_bar(5.0, 10.0) == "▰" * 5 + "▱" * 5
    assert spend_bar(3.0, 0.0) == "▰" * 10
