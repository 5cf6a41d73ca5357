"""Tile geometry and planning: the grid covers every pixel once, windows stay in the frame, Blender's border lands
on the window's pixels, and the plan fits each tile in a third of the render function's time."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.errors import ValidationError
from backend.render.grammar import parse_render
from backend.render.tiles import (
    MORE_TILES,
    NEAR_EQUAL,
    NOMINAL_SHAPE,
    TILE_SHARE,
    Cut,
    describe,
    parse_grid,
    plan_grid,
    planned_cost,
    slowest_tile_s,
    tiles_of,
)


@given(
    width=st.integers(8, 4096),
    height=st.integers(8, 2160),
    cols=st.integers(1, 8),
    rows=st.integers(1, 8),
    overscan=st.integers(0, 64),
)
def test_tiles_cover_every_pixel_once_and_blenders_border_lands_on_the_window(
    width: int, height: int, cols: int, rows: int, overscan: int
) -> None:
    tiles = tiles_of(width, height, (cols, rows), overscan)
    assert sum(tile.inner.width * tile.inner.height for tile in tiles) == width * height
    for tile in tiles:
        inner, window = tile.inner, tile.window
        assert 0 <= window.x0 <= inner.x0 < inner.x1 <= window.x1 <= width
        assert 0 <= window.y0 <= inner.y0 < inner.y1 <= window.y1 <= height
        min_x, max_x, min_y, max_y = tile.border(width, height)
        for fraction, size, pixel in ((min_x, width, window.x0), (max_x, width, window.x1)):
            assert int(fraction * size) == round(fraction * size) == pixel  # truncated or rounded alike
        assert int(min_y * height) == height - window.y1 and int(max_y * height) == height - window.y0
    assert [tile.index for tile in tiles] == list(range(cols * rows))


def test_grids_are_read_as_a_person_types_them() -> None:
    assert parse_grid("4x4") == (4, 4) and parse_grid(" 3×2 ") == (3, 2) and parse_grid("AUTO") is None
    for bad, said in (("4", "not a grid"), ("1x1", "makes 1 tiles"), ("9x9", "makes 81 tiles")):
        with pytest.raises(ValueError, match=said):
            parse_grid(bad)
    request = parse_render(["shot.blend", "1-10", "--tiles", "auto"])
    assert request.settings.tiles is None and request.settings.tiles_auto
    with pytest.raises(ValidationError, match="leave out `--chunk`"):
        parse_render(["shot.blend", "1-10", "--tiles", "2x2", "--chunk", "4"])
    assert describe(5, (4, 4)) == "tile 6 of 16 (row 2, column 2)"


def test_a_cut_travels_as_text() -> None:
    for cut in (Cut(1920, 1080, (4, 4), 4), Cut(64, 36, (2, 1), 48, ".jpg")):
        assert Cut.from_text(cut.to_text()) == cut


@given(frame_s=st.floats(1, 3600 * 6), limit_s=st.floats(60, 900))
def test_the_plan_fits_each_tile_in_a_third_of_the_limit_with_as_few_tiles_as_it_can(
    frame_s: float, limit_s: float
) -> None:
    try:
        grid = plan_grid(frame_s, limit_s)
    except ValueError:
        assert slowest_tile_s(frame_s, (8, 8), NOMINAL_SHAPE) > limit_s * TILE_SHARE
        return
    if grid is None:
        assert frame_s <= limit_s * TILE_SHARE * 2
        return
    count = grid[0] * grid[1]
    assert frame_s / count <= limit_s * TILE_SHARE * 1.0001
    fewest = min(
        cols * rows
        for cols in range(1, 9)
        for rows in range(1, 9)
        if cols * rows >= 2 and slowest_tile_s(frame_s, (cols, rows), NOMINAL_SHAPE) <= limit_s * TILE_SHARE
    )
    assert count <= fewest * MORE_TILES  # no needlessly large grid


def test_auto_prefers_a_squarer_grid_to_thin_strips_when_it_costs_less() -> None:
    # GIVEN a 1280×720 denoised frame needing about 7 tiles' worth of the limit, each tile paying the scene's sync
    frame_s, limit_s = 70.0, 33.0
    grid = plan_grid(frame_s, limit_s, shape=(1280, 720, 16), fixed_s=1.0)
    # THEN it is not the 7×1 strips (their overscan covers 1.15× the frame) but the cheapest fitting grid
    assert grid is not None and grid != (7, 1)
    strips = planned_cost(frame_s, (7, 1), (1280, 720, 16), fixed_s=1.0)
    assert planned_cost(frame_s, grid, (1280, 720, 16), fixed_s=1.0) < strips
    assert 0.5 <= (1280 / grid[0]) / (720 / grid[1]) <= 2  # near-square tiles


@given(
    frame_s=st.floats(1, 3600 * 6),
    limit_s=st.floats(60, 900),
    width=st.integers(320, 4096),
    height=st.integers(240, 2160),
    overscan=st.sampled_from([4, 16]),
    fixed_share=st.floats(0, 0.2),
)
def test_auto_picks_the_cheapest_grid_whose_slowest_tile_fits(
    frame_s: float, limit_s: float, width: int, height: int, overscan: int, fixed_share: float
) -> None:
    shape, fixed_s = (width, height, overscan), frame_s * fixed_share
    try:
        grid = plan_grid(frame_s, limit_s, shape=shape, fixed_s=fixed_s)
    except ValueError:
        return
    if grid is None:
        assert frame_s <= limit_s * TILE_SHARE * 2
        return
    budget = limit_s * TILE_SHARE
    assert slowest_tile_s(frame_s, grid, shape, fixed_s) <= budget * 1.0001
    cost = planned_cost(frame_s, grid, shape, fixed_s)
    for cols in range(1, 9):
        for rows in range(1, 9):
            other = (cols, rows)
            if cols * rows >= 2 and slowest_tile_s(frame_s, other, shape, fixed_s) <= budget:
                assert cost <= planned_cost(frame_s, other, shape, fixed_s) * NEAR_EQUAL + 1e-9
