"""`/render costs`: its words, the groups a job's cost counts in, and the message Slack and the CLI show."""

from __future__ import annotations

import pytest

from backend.budgets.provider import Budget
from backend.commands import Caller
from backend.errors import AwsError, ValidationError
from backend.render.grammar import RENDER_SUBCOMMANDS, parse_command
from backend.render.records import FrameOutcome, FrameRecord, Job, JobStatus
from backend.render.spend import CostGroup, CostsCommand, CostsShown, group_of, month_of
from backend.render.tasks import RenderSettings
from bot.messages.render_costs import costs_message
from bot.messages.text import plain


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("costs", CostsCommand(None, "user")),
        ("costs --month 2026-03", CostsCommand("2026-03", "user")),
        ("costs --by shot", CostsCommand(None, "shot")),
        ("costs --by=CLASS --month=2025-12", CostsCommand("2025-12", "class")),
        ("COSTS --by channel", CostsCommand(None, "channel")),
    ],
)
def test_the_forms_of_costs(text: str, command: CostsCommand) -> None:
    assert "costs" in RENDER_SUBCOMMANDS
    assert parse_command(text.split()) == command


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "costs --month 2026-13",
            "`--month 2026-13` is not a month: use YEAR-MONTH with the month from 01 to 12",
        ),
        ("costs --month 2026-00", "`--month 2026-00` is not a month"),
        ("costs --month march", "`--month march` is not a month"),
        ("costs --month 2026-٠٣", "is not a month"),
        ("costs --by team", "`--by team` is not one of user, channel, shot, class"),
        ("costs --month", "`--month` needs a value"),
        ("costs --by user --by shot", "`--by` is given twice"),
        ("costs shot010", "`/render costs` does not take `shot010`"),
        ("costs --res 1x1", "`/render costs` does not take `--res`"),
    ],
)
def test_refusals_say_what_to_type(text: str, said: str) -> None:
    with pytest.raises(ValidationError, match=None) as refused:
        parse_command(text.split())
    assert said in str(refused.value)


def _job(**changes: object) -> Job:
    fields: dict[str, object] = {
        "job_id": "r1",
        "status": JobStatus.DONE,
        "scene_bucket": "b",
        "scene_key": "scenes/projB/sh010/shot.blend",
        "scene_etag": "e",
        "frames_spec": "1-2",
        "total": 2,
        "task_count": 2,
        "settings": RenderSettings(render_class="gpu"),
        "output_bucket": "o",
        "output_prefix": "out/",
        "requested_by": "U0ARTIST",
        "channel": "C0RENDERS",
        **changes,
    }
    return Job(**fields)  # type: ignore[arg-type]


def test_a_job_counts_in_its_submitter_channel_shot_folder_and_class() -> None:
    job = _job()
    assert [group_of(job, by, "scenes/") for by in ("user", "channel", "shot", "class")] == [
        "U0ARTIST",
        "C0RENDERS",
        "projB/sh010",
        "gpu",
    ]
    assert group_of(_job(scene_key="scenes/loose.blend"), "shot", "scenes/") == "loose.blend"
    assert month_of(1_796_083_200.0) == "2026-12" and month_of(1_796_083_199.0) == "2026-11"  # UTC


def test_the_message_names_people_sums_the_rest_and_shows_the_budget_beside_the_total() -> None:
    reply = CostsShown(
        month="2026-12",
        by="user",
        groups=[CostGroup("U0ARTIST", 12.5, 3), CostGroup("U0OTHER", 0.25, 1)],
        more=2,
        more_usd=0.5,
        total_usd=13.25,
        jobs=6,
        budgets=[Budget("studio", 1000.0, 812.4, None)],
    )
    text, blocks = costs_message(reply)
    assert text.splitlines() == [
        "💰 Render spend in 2026-12 by person (measured, 6 jobs):",
        "`    $12.50` · 3 jobs · <@U0ARTIST>",
        "`     $0.25` · 1 job · <@U0OTHER>",
        "…and 2 more: $0.50",
        "*Total $13.25*",
        "AWS Budgets this month (the whole account): `studio` $812.40 of $1,000.00.",
    ]
    assert "<@U0ARTIST>" in blocks[0]["text"]["text"] and blocks[-1]["type"] == "context"
    assert "U0ARTIST" in plain(text) and "<@" not in plain(text)  # the terminal names people by id


def test_an_empty_month_says_so() -> None:
    reply = CostsShown("2026-03", "shot", [], 0, 0.0, 0.0, 0)
    assert costs_message(reply)[0] == "💰 No renders in 2026-03: nothing spent on the farm."


class Budgets:
    """The account's budgets, or AWS Budgets refusing to say."""

    def __init__(self, budgets: list[Budget] | None) -> None:
        self.budgets = budgets
        self.asked = 0

    def all(self) -> list[Budget]:
        self.asked += 1
        if self.budgets is None:
            raise AwsError(
                "studiobot's role may not read budgets: ask an admin to allow `budgets:ViewBudget`"
            )
        return self.budgets


def _desk_costs(budgets: Budgets, words: str, now: float = 1_796_083_200.0 + 3600) -> CostsShown:
    from entry.wiring import Services
    from tests.unit.test_fanout import Farm

    farm = Farm()
    farm.clock.now = now - 60  # a job this month (December 2026, UTC)
    job = farm.submit("shot010/shot.blend 1-2")
    record = FrameRecord(1, FrameOutcome.DONE, seconds=1.0, output_key="o/1", billed_s=30.0)
    farm.jobs.record_frame(job.job_id, record)
    farm.clock.now = now
    services = farm.services
    desk = Services(
        services.settings,
        farm.clock,
        jobs=farm.jobs,
        submissions=services.submissions,
        lifecycle=services.lifecycle,
        budget_provider=budgets,
    ).desk
    reply = desk.run(parse_command(words.split()), Caller("U0ARTIST", "C1"))
    assert isinstance(reply, CostsShown)
    return reply


def test_the_desk_reads_this_month_by_its_clock_and_shows_the_monthly_cost_budgets() -> None:
    monthly = Budget("studio", 1000.0, 812.4, None)
    hours = Budget("gpu-hours", 100.0, 5.0, None, unit="HRS")
    budgets = Budgets([monthly, hours, Budget("yearly", 9000.0, 100.0, None, time_unit="ANNUALLY")])
    reply = _desk_costs(budgets, "costs --by shot")
    assert (reply.month, reply.by, reply.jobs) == ("2026-12", "shot", 1)
    assert [(group.name, group.jobs) for group in reply.groups] == [("shot010", 1)]
    assert reply.total_usd == pytest.approx(reply.groups[0].usd) and reply.total_usd > 0
    assert reply.budgets == [monthly]  # the monthly cost budgets only


def test_without_budgets_or_leave_to_read_them_the_costs_come_alone() -> None:
    assert _desk_costs(Budgets(None), "costs").budgets is None  # AWS Budgets refused: no line, no error
    assert _desk_costs(Budgets([]), "costs").budgets is None
    earlier = Budgets([Budget("studio", 1000.0, 812.4, None)])
    reply = _desk_costs(earlier, "costs --month 2026-11")
    assert (
        reply.jobs == 0 and reply.budgets is None and earlier.asked == 0
    )  # this month's budget is not November's
