"""Long lists in Slack: one page of rows at a time (`--page N`: as many as a table block holds), and fixed-width
tables as code blocks that each fit in a section (where Slack refuses table blocks)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.messages.tables import TABLE_PAGE_ROWS
from bot.messages.text import SECTION_TEXT, cut, size

PAGE_ROWS = TABLE_PAGE_ROWS  # a table block's rows under its header; its code-block fallback pages alike
Row = TypeVar("Row")


@dataclass(frozen=True)
class Page(Generic[Row]):
    """The rows of one page, and where it sits among the others."""

    rows: list[Row]
    number: int  # the page shown: the one asked for, or the last when it asked past the end
    count: int
    total: int  # rows on every page together
    asked: int
    per_page: int

    @property
    def after(self) -> int:
        """Rows on the pages after this one."""
        return max(0, self.total - self.number * self.per_page)


def page_of(rows: Sequence[Row], asked: int, per_page: int = PAGE_ROWS) -> Page[Row]:
    """Page `asked` (from 1) of `rows`; past the end, the last page."""
    count = max(1, math.ceil(len(rows) / per_page))
    number = min(max(asked, 1), count)
    start = (number - 1) * per_page
    return Page(list(rows[start : start + per_page]), number, count, len(rows), asked, per_page)


def page_note(page: Page[Row], command: str, noun: str) -> str:
    """`Page 2 of 8 · …and 200 more: `/workstations status --page 3``, or "" when everything fits on one page."""
    if page.count == 1:
        return ""
    said = f"Page {page.number} of {page.count} ({page.total:,} {noun})"
    if page.asked > page.count:
        said += f": there is no page {page.asked:,}, this is the last"
    if page.after:
        said += f" · …and {page.after:,} more: `{command} --page {page.number + 1}`"
    return said


def code_sections(header: str, lines: list[str], limit: int = SECTION_TEXT) -> list[str]:
    """Escaped lines of a fixed-width table as code blocks, as few as fit, each within `limit` (the header atop
    each); a line too long for any block is cut."""
    room = limit - size(f"```\n{header}\n\n```")
    blocks: list[list[str]] = []
    used = room + 1
    for line in lines:
        line = cut(line, room)
        if used + size(line) + 1 > room:
            blocks.append([])
            used = 0
        blocks[-1].append(line)
        used += size(line) + 1
    return ["```\n" + "\n".join([header, *block]) + "\n```" for block in blocks] or [f"```\n{header}\n```"]


def packed(lines: list[str], limit: int = SECTION_TEXT) -> list[str]:
    """Lines of mrkdwn (escaped already) joined into as few texts as fit within `limit` each."""
    texts: list[str] = []
    for line in lines:
        line = cut(line, limit)
        if texts and size(texts[-1]) + 1 + size(line) <= limit:
            texts[-1] += "\n" + line
        else:
            texts.append(line)
    return texts
