"""Tabular answers as Slack's `table` block (one a message, else `only_one_table_allowed`; at most 100 rows of at
most 20 cells), each carrying the code-block message a workspace that refuses table blocks gets instead, and the
chart (a PNG) some answers show.

The table's first row is its header, so a page holds `TABLE_PAGE_ROWS` rows of data. Cells are `raw_text`: Slack
shows them as typed (no mrkdwn), so they are never escaped, only cut.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bot.messages import Blocks
from bot.messages.text import ELLIPSIS, NAME_CHARS, is_user_id

TABLE_ROWS = 100  # rows in one table block, its header included
TABLE_CELLS = 20  # cells in one row (and `column_settings` entries)
TABLE_PAGE_ROWS = TABLE_ROWS - 1  # rows of data a page shows: a table's and its code-block fallback's
CELL_CHARS = NAME_CHARS  # our bound for a cell: a workstation's or budget's name fits whole
EMPTY_CELL = "—"  # a cell with nothing to say (an empty `raw_text` is refused)

Chart = Callable[[], bytes]  # draws a PNG


class Tabled(tuple[str, Blocks]):
    """A message with a table block (its text and blocks, unpacked as any message), the message to send instead where
    Slack refuses table blocks (`fallback`: today's code blocks), and a chart to show with it (`chart`: draws a PNG,
    only when the message is posted)."""

    fallback: tuple[str, Blocks]
    chart: Chart | None
    chart_title: str

    def __new__(
        cls,
        text: str,
        blocks: Blocks,
        fallback: tuple[str, Blocks],
        chart: Chart | None = None,
        chart_title: str = "",
    ) -> Tabled:
        """The message, what replaces it where tables are refused, and its chart."""
        made = super().__new__(cls, (text, blocks))
        made.fallback, made.chart, made.chart_title = fallback, chart, chart_title
        return made


def charted(message: tuple[str, Blocks], chart: Chart | None, title: str) -> Tabled:
    """A message without a table that shows a chart too (its fallback is itself)."""
    text, blocks = message
    return Tabled(text, blocks, (text, blocks), chart, title)


def cell(text: str) -> dict[str, str]:
    """A `raw_text` cell: the text as typed, cut to `CELL_CHARS` with `…`; `—` when empty."""
    text = text.strip() or EMPTY_CELL
    if len(text) > CELL_CHARS:
        text = text[: CELL_CHARS - 1] + ELLIPSIS
    return {"type": "raw_text", "text": text}


def person_cell(person: str) -> dict[str, Any]:
    """A person as a cell: a Slack user id as a mention (a `rich_text` cell), anyone else by name."""
    if not is_user_id(person):
        return cell(person)
    mention = {"type": "user", "user_id": person}
    return {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": [mention]}]}


Cell = str | dict[str, Any]  # text for a `raw_text` cell, or a cell made already (`person_cell`)


def table_block(
    header: Sequence[str], rows: Sequence[Sequence[Cell]], right: Sequence[int] = ()
) -> dict[str, Any]:
    """A table block: `header` atop `rows` (at most `TABLE_PAGE_ROWS` of them), the columns in `right` aligned right
    (amounts, durations)."""
    if len(rows) > TABLE_PAGE_ROWS or len(header) > TABLE_CELLS:
        raise ValueError(
            f"a table block holds {TABLE_PAGE_ROWS} rows of {TABLE_CELLS} cells under its header"
        )
    if any(len(row) != len(header) for row in rows):
        raise ValueError("every row of a table has as many cells as its header")
    settings = [{"align": "right"} if column in right else {"align": "left"} for column in range(len(header))]
    return {
        "type": "table",
        "column_settings": settings,
        "rows": [[cell(text) if isinstance(text, str) else text for text in row] for row in [header, *rows]],
    }


def has_table(blocks: Blocks | None) -> bool:
    """Whether a message's blocks hold a table block."""
    return any(block.get("type") == "table" for block in blocks or [])
