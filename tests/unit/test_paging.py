"""Long tables page: `--page N` in the grammars, and what each page says about the others."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from backend.budgets.grammar import BudgetCommand, parse_budget
from backend.commands import split_words
from backend.errors import ValidationError
from backend.workstations.grammar import WorkstationsCommand, parse_workstations
from backend.workstations.presence import Seen, Use
from backend.workstations.service import StatusRow
from bot.listeners.commands import workstations as slash


@pytest.mark.parametrize(
    ("text", "page"),
    [
        ("", 1),
        ("status", 1),
        ("status --page 3", 3),
        ("status --page=12", 12),
        ("--page 2", 2),
        ("STATUS --PAGE 4", 4),
    ],
)
def test_status_takes_a_page(text: str, page: int) -> None:
    assert parse_workstations(split_words(text)) == WorkstationsCommand("status", page=page)
    assert parse_budget(split_words(text)) == BudgetCommand("status", page=page)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("status --page", "`--page` needs a number, e.g. `/workstations status --page 2`."),
        ("status --page 0", "`--page 0` must be a whole number from 1 to 10,000"),
        ("status --page ²", "`--page ²` must be a whole number"),
        ("status --page 99999999999999999999", "must be a whole number from 1 to 10,000"),
        ("status all", "`/workstations status` takes nothing more than `--page N`"),
        ("status --page 2 3", "takes nothing more than `--page N`"),
    ],
)
def test_a_wrong_page_says_what_works(text: str, said: str) -> None:
    with pytest.raises(ValidationError) as raised:
        parse_workstations(split_words(text))
    assert said in str(raised.value)


def _fleet(count: int) -> Any:
    seen = {7: Seen(Use.ACTIVE, ("anna",), idle_s=60.0), 8: Seen(Use.FREE)}  # the page's running ones, asked
    rows = [
        StatusRow(f"ws-{index:04d}", "U0ARTIST", "running" if index % 3 else "stopped", None, timedelta(hours=2), False, seen.get(index))
        for index in range(count)
    ]  # fmt: skip
    return SimpleNamespace(workstations=SimpleNamespace(status=lambda ask_page=None: list(reversed(rows))))


def _table(blocks: list[dict[str, Any]]) -> str:
    """What a page lists: its table block's cells (or its code blocks', where Slack refuses tables)."""
    cells = [
        cell.get("text", "")
        for block in blocks
        if block["type"] == "table"
        for row in block["rows"]
        for cell in row
    ]
    return "\n".join([*cells, *(block["text"]["text"] for block in blocks if block["type"] == "section")])


def _note(blocks: list[dict[str, Any]]) -> str:
    (note,) = [block["elements"][0]["text"] for block in blocks if block["type"] == "context"]
    return str(note)


def test_three_hundred_workstations_show_ninety_nine_and_say_how_to_see_the_rest() -> None:
    # a page is what one table block holds: 100 rows, its header among them
    message = slash.run(_fleet(300), WorkstationsCommand("status"), "U0ARTIST")
    text, blocks = message
    assert text == "300 workstations: 200 running; of 2 asked now, 1 connected and 0 unknown (page 1 of 4)"
    assert "ws-0000" in _table(blocks) and "ws-0098" in _table(blocks) and "ws-0099" not in _table(blocks)
    assert _note(blocks) == "Page 1 of 4 (300 workstations) · …and 201 more: `/workstations status --page 2`"
    _, second = slash.run(_fleet(300), WorkstationsCommand("status", page=2), "U0ARTIST")
    assert "ws-0099" in _table(second) and "ws-0197" in _table(second) and "ws-0098" not in _table(second)
    _, code = message.fallback  # type: ignore[attr-defined]
    assert "ws-0098" in _table(code) and "ws-0099" not in _table(code) and _note(code) == _note(blocks)


def test_a_page_past_the_end_shows_the_last() -> None:
    _, blocks = slash.run(_fleet(150), WorkstationsCommand("status", page=9), "U0ARTIST")
    assert "ws-0149" in _table(blocks)
    assert _note(blocks) == "Page 2 of 2 (150 workstations): there is no page 9, this is the last"


def test_a_fleet_that_fits_on_a_page_has_no_page_note() -> None:
    text, blocks = slash.run(_fleet(99), WorkstationsCommand("status"), "U0ARTIST")
    assert text == "99 workstations: 66 running; of 2 asked now, 1 connected and 0 unknown" and [
        block["type"] for block in blocks
    ] == ["table"]


def test_the_terminal_shows_the_whole_page_and_its_note() -> None:
    from local.cli.desk import message_blocks_text

    shown = message_blocks_text(slash.run(_fleet(300), WorkstationsCommand("status"), "U0ARTIST"))
    assert "ws-0000" in shown and "ws-0098" in shown and "```" not in shown
    assert shown.endswith("…and 201 more: `/workstations status --page 2`")
