"""Tiles: one frame split into border regions rendered as separate tasks, then stitched (plain data, no bpy).

A grid of `cols × rows` tiles covers the frame exactly (the *inner* rectangles); each tile renders a *window* that
is its inner rectangle grown by an overscan margin on every side that is not the frame's edge, so whatever a
pixel's neighbours decide (adaptive sampling's window, the denoiser's footprint) is the same as in the whole frame.
Rectangles are in image coordinates: x to the right, y down from the top row, end-exclusive.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

OVERSCAN_PX = 4  # past every inner edge: adaptive sampling compares a pixel with its neighbours
# The denoiser reads around a pixel: bench/tiles.py measured seams (gradient across tile borders ÷ elsewhere) of
# 2.03 at 0 px, 1.02 at 8 px and 0.99 at 16 px (the whole frame: 0.96), PSNR over 54 dB from 8 px on; 16 px keeps a
# 4×4 grid's cost near 1.2 (48 px cost 1.8: its windows cover 1.7× the frame).
DENOISE_OVERSCAN_PX = 16
MAX_TILES = 64  # 8 × 8: past this a frame is better split by lowering samples or resolution
TILE_SHARE = 1 / 3  # a tile should take at most about a third of the render function's time
TILED_COST = (
    1.2  # a tiled frame's render seconds ÷ the whole frame's (overscan, each tile's start): bench/tiles
)
AUTO = "auto"

_GRID = re.compile(r"^\s*(\d{1,2})\s*[x×*]\s*(\d{1,2})\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Rect:
    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0


@dataclass(frozen=True)
class Tile:
    """One tile of a frame: `index` counts row by row from the top left."""

    index: int
    inner: Rect  # the pixels this tile gives the stitched frame
    window: Rect  # the pixels it renders (inner plus overscan)

    def border(self, width: int, height: int) -> tuple[float, float, float, float]:
        """Blender's render border for the window (min_x, max_x, min_y, max_y as fractions, y up from the bottom).
        Each edge sits a quarter pixel inside its pixel, so Blender's float-to-pixel step lands on it exactly."""
        window = self.window
        return (
            (window.x0 + 0.25) / width,
            (window.x1 + 0.25) / width,
            (height - window.y1 + 0.25) / height,
            (height - window.y0 + 0.25) / height,
        )


def parse_grid(text: str) -> tuple[int, int] | None:
    """`4x4` → (4, 4); `auto` → None (planned from the probes). ValueError says what would work."""
    if text.strip().lower() == AUTO:
        return None
    match = _GRID.match(text)
    if not match:
        raise ValueError(
            f"`--tiles {text}` is not a grid: use columns×rows like `--tiles 4x4`, or `--tiles auto`."
        )
    cols, rows = int(match[1]), int(match[2])
    if cols < 1 or rows < 1 or cols * rows < 2 or cols * rows > MAX_TILES:
        raise ValueError(
            f"`--tiles {text}` makes {cols * rows} tiles: use 2 to {MAX_TILES}, like `--tiles 4x4`."
        )
    return cols, rows


def grid_text(grid: tuple[int, int]) -> str:
    return f"{grid[0]}×{grid[1]}"


def tile_count(grid: tuple[int, int] | None) -> int:
    return grid[0] * grid[1] if grid else 1


def _cuts(length: int, parts: int) -> list[int]:
    return [round(length * part / parts) for part in range(parts + 1)]


def tiles_of(width: int, height: int, grid: tuple[int, int], overscan: int = OVERSCAN_PX) -> list[Tile]:
    """The tiles covering a `width × height` frame, row by row from the top left."""
    cols, rows = grid
    if width < cols or height < rows:
        raise ValueError(f"a {width}×{height} frame cannot be cut into {grid_text(grid)} tiles")
    xs, ys = _cuts(width, cols), _cuts(height, rows)
    tiles = []
    for row in range(rows):
        for col in range(cols):
            inner = Rect(xs[col], ys[row], xs[col + 1], ys[row + 1])
            window = Rect(
                max(0, inner.x0 - overscan),
                max(0, inner.y0 - overscan),
                min(width, inner.x1 + overscan),
                min(height, inner.y1 + overscan),
            )
            tiles.append(Tile(row * cols + col, inner, window))
    return tiles


@dataclass(frozen=True)
class Cut:
    """How one frame was cut: its full size, the grid and the overscan (all a stitcher needs to place the tiles)."""

    width: int
    height: int
    grid: tuple[int, int]
    overscan: int
    suffix: str = (
        ""  # the stitched frame's file type when it is not the tiles' (a JPEG frame's tiles are PNG)
    )

    def tiles(self) -> list[Tile]:
        return tiles_of(self.width, self.height, self.grid, self.overscan)

    def to_text(self) -> str:
        return f"{self.width}x{self.height}/{self.grid[0]}x{self.grid[1]}+{self.overscan}{self.suffix}"

    @classmethod
    def from_text(cls, text: str) -> Cut:
        size, rest = text.split("/")
        grid, tail = rest.split("+")
        overscan, dot, suffix = tail.partition(".")
        width, height = (int(part) for part in size.split("x"))
        cols, rows = (int(part) for part in grid.split("x"))
        return cls(width, height, (cols, rows), int(overscan), dot + suffix)


def describe(index: int, grid: tuple[int, int]) -> str:
    """`tile 6 of 16 (row 2, column 2)`: how a person finds it on the frame."""
    cols = grid[0]
    return f"tile {index + 1} of {tile_count(grid)} (row {index // cols + 1}, column {index % cols + 1})"


Shape = tuple[int, int, int]  # a frame's width and height in pixels, and its tiles' overscan
NOMINAL_SHAPE: Shape = (1920, 1080, OVERSCAN_PX)  # when the planner was not told the frame's own
NEAR_EQUAL = 1.02  # costs within 2 % of the cheapest are equal: the squarer tiles win
MORE_TILES = 1.5  # ...among grids of at most half as many tiles again as the fewest that fit (each is a task)


@functools.lru_cache(maxsize=1024)
def _window_shares(grid: tuple[int, int], shape: Shape) -> tuple[float, ...]:
    width, height, overscan = shape
    if width < grid[0] or height < grid[1]:
        return (math.inf,)
    pixels = width * height
    return tuple(
        tile.window.width * tile.window.height / pixels for tile in tiles_of(width, height, grid, overscan)
    )


def planned_cost(frame_s: float, grid: tuple[int, int], shape: Shape, fixed_s: float = 0.0) -> float:
    """A tiled frame's render seconds: each tile pays the scene's fixed part (sync, BVH) and its window's pixels,
    overscan included (what makes thin strips dear)."""
    per_frame = max(0.0, frame_s - fixed_s)
    return sum(fixed_s + per_frame * share for share in _window_shares(grid, shape))


def slowest_tile_s(frame_s: float, grid: tuple[int, int], shape: Shape, fixed_s: float = 0.0) -> float:
    """The planned seconds of the grid's largest window."""
    return fixed_s + max(0.0, frame_s - fixed_s) * max(_window_shares(grid, shape))


def _squareness(grid: tuple[int, int], shape: Shape) -> float:
    return abs(math.log((shape[0] / grid[0]) / (shape[1] / grid[1])))


def plan_grid(
    frame_s: float,
    limit_s: float,
    share: float = TILE_SHARE,
    shape: Shape | None = None,
    fixed_s: float = 0.0,
) -> tuple[int, int] | None:
    """The cheapest grid (planned cost, near-square tiles among near-equal costs) whose slowest tile takes at most
    `share` of the limit, for a frame predicted to take `frame_s`; None when the frame fits whole, and ValueError
    when even `MAX_TILES` tiles would not."""
    budget = limit_s * share
    if frame_s <= budget * 2:  # fits whole with room to spare: tiles would only add overhead
        return None
    shape = shape or NOMINAL_SHAPE
    grids = [(cols, rows) for cols in range(1, 9) for rows in range(1, 9) if cols * rows >= 2]
    fitting = [grid for grid in grids if slowest_tile_s(frame_s, grid, shape, fixed_s) <= budget]
    if not fitting:
        raise ValueError(
            f"a frame would take about {round(frame_s / 60)} min: even {MAX_TILES} tiles would not fit the render "
            f"function's {round(limit_s / 60)} min"
        )
    costs = {grid: planned_cost(frame_s, grid, shape, fixed_s) for grid in fitting}
    cheapest = min(costs.values())
    fewest = min(grid[0] * grid[1] for grid in fitting)
    near = [
        grid
        for grid in fitting
        if costs[grid] <= cheapest * NEAR_EQUAL and grid[0] * grid[1] <= fewest * MORE_TILES
    ] or [min(costs, key=costs.__getitem__)]
    return min(near, key=lambda grid: (_squareness(grid, shape), grid[0] * grid[1], costs[grid]))
