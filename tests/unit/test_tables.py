"""Tables where tables belong: `/workstations status`, `/budget status` and `/render list` as one table block a page
(at most 100 rows, its header included, of at most 20 cells), paged past that, each with today's code blocks to send
where Slack refuses tables; the fake Slack refuses what Slack refuses."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from backend.budgets.guard import GuardState
from backend.budgets.provider import Budget
from backend.budgets.service import BudgetStatus
from backend.render.records import Job, JobStatus
from backend.render.tasks import RenderSettings
from backend.workstations.service import StatusRow
from bot.messages import budgets
from bot.messages import workstations as ws_messages
from bot.messages.render_replies import job_table
from bot.messages.tables import Tabled, table_block
from testing.slack import FakeSlack
from testing.slack_blocks import blocks_refusal
from tests.unit.block_kit import assert_message

Blocks = list[dict[str, Any]]


def _fleet(count: int) -> list[StatusRow]:
    return [
        StatusRow(f"ws-{index:04d}", "U0ARTIST", "running", timedelta(hours=1), timedelta(hours=2), False)
        for index in range(count)
    ]


def _budgets(count: int) -> BudgetStatus:
    return BudgetStatus(
        [Budget(f"budget-{index:04d}", 500.0, 120.0, 480.0) for index in range(count)], GuardState()
    )


def _job(index: int, user: str) -> Job:
    return Job(
        job_id=f"r{index:03d}",
        status=JobStatus.RUNNING,
        scene_bucket="scenes",
        scene_key=f"scenes/sh{index:03d}/shot.blend",
        scene_etag="etag",
        frames_spec="1-240",
        total=240,
        task_count=240,
        settings=RenderSettings(),
        output_bucket="outputs",
        output_prefix=f"outputs/r{index:03d}/",
        requested_by=user,
        channel="C0RENDERS",
        created_at=1_800_000_000.0 - index * 60,
    )


def _tables(blocks: Blocks) -> list[dict[str, Any]]:
    return [block for block in blocks if block["type"] == "table"]


def _note(blocks: Blocks) -> str:
    return " ".join(
        element["text"] for block in blocks if block["type"] == "context" for element in block["elements"]
    )


def _accepted(blocks: Blocks) -> bool:
    return blocks_refusal(FakeSlack(), blocks) is None


@pytest.mark.parametrize(("rows", "pages"), [(1, 1), (99, 1), (100, 2)])
def test_a_table_block_holds_100_rows_with_its_header_and_one_row_more_makes_two_pages(
    rows: int, pages: int
) -> None:
    # GIVEN a table of `rows + 1` rows (the header atop): 2, 100 and 101
    for message, asked in (
        (ws_messages.workstations_table, _fleet(rows)),
        (budgets.budget_status, _budgets(rows)),
    ):
        shown: list[str] = []
        for page in range(1, pages + 1):
            text, blocks = message(asked, page)  # type: ignore[operator,arg-type]
            (table,) = _tables(blocks)
            assert len(table["rows"]) <= 100 and all(len(row) <= 20 for row in table["rows"])
            assert _accepted(blocks)
            assert_message(text, blocks)
            shown += [row[0]["text"] for row in table["rows"][1:]]
            assert ("--page 2" in _note(blocks)) is (pages > 1 and page == 1)
        # THEN every row is shown once, over `pages` pages
        assert len(shown) == rows == len(set(shown))


def test_the_fake_refuses_a_table_of_101_rows_and_the_builder_never_makes_one() -> None:
    header = ["name"]
    over = {"type": "table", "rows": [[{"type": "raw_text", "text": str(row)}] for row in range(101)]}
    assert blocks_refusal(FakeSlack(), [over]) == "invalid_blocks"
    assert _accepted([{**over, "rows": over["rows"][:100]}])
    with pytest.raises(ValueError, match="99 rows"):
        table_block(header, [[str(row)] for row in range(100)])


@pytest.mark.parametrize(
    ("table", "error"),
    [
        ({"type": "table", "rows": [[{"type": "raw_text", "text": "x"}] * 21]}, "invalid_blocks"),
        ({"type": "table", "rows": [[{"type": "mrkdwn", "text": "*x*"}]]}, "invalid_blocks"),
        ({"type": "table", "rows": [[{"type": "raw_text", "text": ""}]]}, "invalid_blocks"),
        ({"type": "table", "rows": []}, "invalid_blocks"),
        ({"type": "table", "rows": [["x"]]}, "invalid_blocks"),
        (
            {
                "type": "table",
                "rows": [[{"type": "raw_text", "text": "x"}]],
                "column_settings": [{"align": "up"}],
            },
            "invalid_blocks",
        ),
    ],
)
def test_the_fake_refuses_tables_as_slack_does(table: dict[str, Any], error: str) -> None:
    assert blocks_refusal(FakeSlack(), [table]) == error


def test_the_fake_takes_one_table_a_message_and_refuses_them_all_when_switched() -> None:
    table = table_block(["a", "b"], [["1", "2"]], right=(1,))
    slack = FakeSlack()
    assert blocks_refusal(slack, [table]) is None
    assert blocks_refusal(slack, [table, table]) == "only_one_table_allowed"
    slack.tables_refused = True
    assert blocks_refusal(slack, [table]) == "invalid_blocks"
    assert blocks_refusal(slack, [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}]) is None


def test_an_image_of_a_file_never_uploaded_is_refused() -> None:
    image = {"type": "image", "slack_file": {"id": "F000009"}, "alt_text": "chart"}
    assert blocks_refusal(FakeSlack(), [image]) == "invalid_blocks"


def test_where_tables_are_refused_the_same_page_goes_as_todays_code_blocks() -> None:
    message = ws_messages.workstations_table(_fleet(120), page=2)
    assert isinstance(message, Tabled)
    text, _ = message
    fallback_text, code = message.fallback
    assert fallback_text == text == "120 workstations: 120 running (page 2 of 2)"
    assert code[0]["text"]["text"].startswith("```\nname")
    listed = "\n".join(block["text"]["text"] for block in code if block["type"] == "section")
    assert "ws-0099" in listed and "ws-0119" in listed and "ws-0098" not in listed
    assert _tables(code) == [] and _accepted(code)
    assert_message(*message.fallback)


def test_owners_are_mentions_in_the_table_and_names_stay_as_typed() -> None:
    rows = [
        StatusRow("a&b <c>", "U0ARTIST", "running", None, None, True),
        StatusRow("x", "maria", "stopped", None, None, False),
    ]
    _, blocks = ws_messages.workstations_table(rows)
    (table,) = _tables(blocks)
    assert table["rows"][0][0] == {"type": "raw_text", "text": "name"}
    assert table["rows"][1][0] == {
        "type": "raw_text",
        "text": "a&b <c>",
    }  # raw text: shown as typed, unescaped
    assert table["rows"][1][1]["elements"][0]["elements"] == [{"type": "user", "user_id": "U0ARTIST"}]
    assert table["rows"][2][1] == {"type": "raw_text", "text": "maria"}
    assert table["column_settings"][3] == {"align": "right"}


def test_render_list_is_a_table_of_the_askers_jobs_first() -> None:
    listed = [_job(index, "U0OTHER" if index % 2 else "U0ARTIST") for index in range(20)]
    message = job_table(listed, "U0ARTIST", now=1_800_000_000.0)
    assert isinstance(message, Tabled)
    text, blocks = message
    (table,) = _tables(blocks)
    assert [cell["text"] for cell in table["rows"][0]] == [
        "job",
        "status",
        "scene",
        "frames",
        "done",
        "by",
        "started",
    ]
    assert len(table["rows"]) == 1 + 15
    assert all(row[5]["elements"][0]["elements"][0]["user_id"] == "U0ARTIST" for row in table["rows"][1:11])
    assert _accepted(blocks)
    assert_message(text, blocks)
    assert_message(*message.fallback)


def test_a_full_page_of_the_longest_names_still_falls_back_within_a_messages_blocks() -> None:
    """99 workstations named with 256 `&` (escaped to five characters each) once made the fallback 51 blocks."""
    rows = [
        StatusRow(
            name="&" * 256 + str(index),
            owner="U0ARTIST",
            state="running",
            up_for=None,
            expires_in=None,
            keepalive=False,
            seen=None,
        )
        for index in range(198)
    ]
    message = ws_messages.workstations_table(rows, 1)
    text, blocks = message.fallback
    assert_message(text, blocks)
    assert "`/workstations status --page 2`" in blocks[-1]["elements"][0]["text"]
