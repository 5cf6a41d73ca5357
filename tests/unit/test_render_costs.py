"""`/render costs`: its words, the groups a job's cost counts in, and the message Slack and the CLI show."""

from __future__ import annotations

import pytest

from backend.budgets.provider import Budget
from backend.errors import ValidationError
from backend.render.grammar import RENDER_SUBCOMMANDS, parse_command
from backend.render.records import Job, JobStatus
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
