"""The money charts are pictures of their numbers: bars stand on one baseline with heights (or widths) proportional
to their values, and the limit line sits at the limit's height on the same scale; read back from the PNG's pixels."""

from __future__ import annotations

import io
import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from backend.budgets.chart import (
    BAR,
    LIMIT,
    OVER,
    budgets_chart,
    cost_by_group_chart,
    spend_by_day_chart,
    stacked,
)
from tests.unit.extremes import people_text


def _image(png: bytes) -> Image.Image:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    return Image.open(io.BytesIO(png)).convert("RGB")


def _runs(image: Image.Image, colours: tuple[tuple[int, int, int], ...]) -> list[tuple[int, int, int]]:
    """Each vertical bar of `colours`: (its middle column, its top row, its bottom row), left to right."""
    width, height = image.size
    pixels: Any = image.load()
    columns = [x for x in range(width) if sum(pixels[x, y] in colours for y in range(height)) > 1]
    bars: list[list[int]] = []
    for x in columns:
        if bars and x == bars[-1][-1] + 1:
            bars[-1].append(x)
        else:
            bars.append([x])
    found = []
    for bar in bars:
        middle = bar[len(bar) // 2]
        rows = [y for y in range(height) if pixels[middle, y] in colours]
        found.append((middle, min(rows), max(rows)))
    return found


def _limit_row(image: Image.Image) -> int:
    """The row most of whose pixels are the limit's red (the line across the plot)."""
    width, height = image.size
    pixels: Any = image.load()
    rows = [y for y in range(height) if sum(pixels[x, y] == LIMIT for x in range(width)) > width // 2]
    assert len(rows) == 1, rows
    return rows[0]


def test_spend_by_day_adds_up_and_stands_against_the_limit_line() -> None:
    # GIVEN four days' spend (added up: 10, 30, 30, 60) and a $50 limit
    image = _image(spend_by_day_chart([10.0, 20.0, 0.0, 30.0], 31, 50.0, "December"))
    bars = _runs(image, (BAR, OVER))
    assert len(bars) == 4
    baseline = bars[0][2] + 1
    assert {bottom for _, _, bottom in bars} == {baseline - 1}  # one baseline
    heights = [baseline - top for _, top, _ in bars]
    # THEN heights are proportional to the running total (within a pixel's rounding)
    for height, total in zip(heights, (10.0, 30.0, 30.0, 60.0), strict=True):
        assert abs(height - heights[3] * total / 60.0) <= 1, heights
    # AND the limit line is at the limit's height on the same scale; the day past it is drawn in the warning colour
    assert abs((baseline - _limit_row(image)) - heights[3] * 50.0 / 60.0) <= 1
    pixels: Any = image.load()
    assert pixels[bars[3][0], baseline - 2] == OVER and pixels[bars[2][0], baseline - 2] == BAR


def test_days_sit_where_their_day_of_the_month_is() -> None:
    image = _image(spend_by_day_chart([5.0] * 10, 30, None, "no limit"))
    bars = _runs(image, (BAR,))
    steps = {right - left for (left, _, _), (right, _, _) in itertools.pairwise(bars)}
    assert len(bars) == 10 and max(steps) - min(steps) <= 1  # evenly spaced, a month of 30 across the plot
    assert bars[-1][0] < image.width // 2  # day 10 of 30: in the first half


def test_cost_by_group_bars_are_proportional_to_cost() -> None:
    image = _image(cost_by_group_chart([("artist", 120.0), ("lead", 60.0), ("comp", 15.0)], "by person"))
    pixels: Any = image.load()
    widths: list[tuple[int, int]] = []
    for y in range(image.height):
        row = [x for x in range(image.width) if pixels[x, y] == BAR]
        if row and (not widths or widths[-1][0] != len(row)):
            widths.append((len(row), y))
    lengths = [length for length, _ in widths]
    assert len(lengths) == 3
    assert abs(lengths[1] - lengths[0] / 2) <= 1 and abs(lengths[2] - lengths[0] / 8) <= 1


def test_each_budget_stands_against_its_own_limit_at_the_same_line() -> None:
    # GIVEN a budget at 80 % of its $1,000 and one at 25 % of its $400
    image = _image(budgets_chart([("prod", 800.0, None, 1000.0), ("render", 100.0, None, 400.0)], "budgets"))
    bars = _runs(image, (BAR, OVER))
    assert len(bars) == 2
    baseline = bars[0][2] + 1
    first, second = (baseline - top for _, top, _ in bars)
    assert abs(second - first * 25 / 80) <= 1
    assert abs((baseline - _limit_row(image)) - first * 100 / 80) <= 1


def test_charts_stack_into_one_picture() -> None:
    one, two = spend_by_day_chart([1.0], 31, 2.0, "a"), cost_by_group_chart([("a", 1.0)], "b")
    both = _image(stacked(one, two))
    assert both.size == (_image(one).width, _image(one).height + _image(two).height)


@given(
    spent=st.lists(st.floats(0, 1e9), max_size=31),
    limit=st.none() | st.floats(0.01, 1e9),
    groups=st.lists(st.tuples(people_text(40), st.floats(0, 1e9)), max_size=20),
    budgets=st.lists(
        st.tuples(people_text(40), st.floats(0, 1e9), st.none() | st.floats(0, 1e9), st.floats(0, 1e9)),
        max_size=12,
    ),
)
@settings(max_examples=15, deadline=None)
def test_any_numbers_and_names_draw_a_picture(
    spent: list[float], limit: float | None, groups: list[tuple[str, float]], budgets: list[Any]
) -> None:
    for png in (
        spend_by_day_chart(spent, 31, limit, "spend"),
        cost_by_group_chart(groups, "groups"),
        budgets_chart(budgets, "budgets"),
    ):
        assert _image(png).size[0] == 640
