"""Tile geometry and planning: the grid covers every pixel once, windows stay in the frame, Blender's border lands
on the window's pixels, and the plan fits each tile in a third of the render function's time."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.errors import ValidationError
from backend.render.grammar import parse_render
from backend.render.tiles import MAX_TILES, TILE_SHARE, Cut, describe, parse_grid, plan_grid, tiles_of


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
        assert frame_s / MAX_TILES > limit_s * TILE_SHARE
        return
    if grid is None:
        assert frame_s <= limit_s * TILE_SHARE * 2
        return
    count = grid[0] * grid[1]
    assert frame_s / count <= limit_s * TILE_SHARE * 1.0001
    assert count < math.ceil(frame_s / (limit_s * TILE_SHARE)) + max(grid)  # no needlessly large grid
