"""The Blender side of the tiles benchmark, run in a new Python: `python -m bench.tiles_run --scene … --result …`.

One warm process, as a render worker is between the tasks of a job: the scene opened once, one untimed tiny render
first, then the probe's two small looks, the whole frame, and the same frame as each grid's tiles (and as the grid
`--tiles auto` plans from two looks of its own, with `--auto`), every render
through the worker's own BlenderRenderer and timed around its `render` call. A scene that denoises
(`bench.tiles_scene --denoise`) gets the renderer's wider overscan for it.
"""

from __future__ import annotations

import argparse
import importlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from backend.render.tasks import RenderSettings
from backend.render.tiles import TILE_SHARE, grid_text, plan_grid, planned_cost
from blender_image.blender import BlenderRenderer
from blender_image.planning import EIGHTH, QUARTER, fit

WARM_UP = RenderSettings(resolution=(64, 36), samples=1, engine="CYCLES")
AUTO_TILES = 6.5  # `--auto`: the limit is set so that the predicted frame needs about this many tiles' worth
STRIPS = (7, 1)  # what the planner chose before it priced overscan, for comparison
RENDER_MODULES = ("blender_image.regions", "blender_image.blender")  # where the tile's cut may be decided


def _use_denoise_overscan(pixels: int) -> None:
    """Try another overscan for denoised scenes without touching the worker's code: replace the constant where the
    renderer reads it."""
    for name in RENDER_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(module, "DENOISE_OVERSCAN_PX"):
            setattr(module, "DENOISE_OVERSCAN_PX", pixels)  # noqa: B010
            return
    raise RuntimeError(f"none of {', '.join(RENDER_MODULES)} reads DENOISE_OVERSCAN_PX any more")


def _timed(render: Callable[..., Path], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """The written file, the call's wall seconds and this process's CPU seconds (all threads) while it ran."""
    wall, cpu = time.perf_counter(), time.process_time()
    path = render(*args, **kwargs)
    return {
        "path": str(path),
        "seconds": time.perf_counter() - wall,
        "cpu_seconds": time.process_time() - cpu,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Render and time everything for one scene; the file paths and seconds for tiles.py to compare."""
    scene_path, out = Path(args.scene), Path(args.out_dir)
    if args.denoise_overscan:
        _use_denoise_overscan(args.denoise_overscan)
    renderer = BlenderRenderer()
    width, height = (int(part) for part in args.res.split("x"))
    settings = RenderSettings(resolution=(width, height), samples=args.samples, engine="CYCLES")
    renderer.render(scene_path, 1, WARM_UP, out / "warm-up")  # one-off setup (and the denoiser's) paid here
    result: dict[str, Any] = {}
    if args.probe:
        looks = [renderer.measure(scene_path, 1, settings, scale) for scale in (QUARTER, EIGHTH)]
        result["probe"] = [{"seconds": seconds, "share": share} for seconds, share in looks]
    auto = _auto_plan(renderer, scene_path, settings) if args.auto else None
    result["whole"] = _timed(renderer.render, scene_path, 1, settings, out / "whole")
    for grid in args.grids:
        result[grid_text(grid)] = _tiles(renderer, scene_path, settings, grid, out)
    if auto is not None:
        result["auto"] = {**auto, **_tiles(renderer, scene_path, settings, auto["grid"], out / "auto")}
    return result


def _tiles(
    renderer: BlenderRenderer, scene_path: Path, settings: RenderSettings, grid: tuple[int, int], out: Path
) -> dict[str, Any]:
    """Every tile of the frame as `grid`, timed; the cut they were rendered with."""
    tiled = RenderSettings(
        resolution=settings.resolution, samples=settings.samples, engine="CYCLES", tiles=grid
    )
    stem = out / grid_text(grid).replace("×", "x")
    tiles = [
        _timed(renderer.render, scene_path, 1, tiled, stem, tile=index) for index in range(grid[0] * grid[1])
    ]
    assert renderer.cut is not None
    return {"cut": renderer.cut.to_text(), "tiles": tiles}


def _auto_plan(renderer: BlenderRenderer, scene_path: Path, settings: RenderSettings) -> dict[str, Any]:
    """`--tiles auto` as a probe plans it: two small looks, a limit the frame needs about `AUTO_TILES` tiles' worth
    of, and the grid the planner picks; what its plan and the strips' plan cost, ÷ the predicted frame."""
    looks = [renderer.measure(scene_path, 1, settings, scale) for scale in (QUARTER, EIGHTH)]
    fixed, predicted = fit(looks[0], looks[1])
    usable_s = predicted / (AUTO_TILES * TILE_SHARE)
    shape = renderer.frame_shape
    assert shape is not None
    grid = plan_grid(predicted, usable_s, shape=shape, fixed_s=fixed)
    assert grid is not None
    return {
        "grid": grid,
        "usable_s": usable_s,
        "predicted_s": predicted,
        "fixed_s": fixed,
        "planned_cost_ratio": planned_cost(predicted, grid, shape, fixed) / predicted,
        "strips_planned_cost_ratio": planned_cost(predicted, STRIPS, shape, fixed) / predicted,
    }


def _grid(text: str) -> tuple[int, int]:
    cols, rows = text.lower().split("x")
    return int(cols), int(rows)


def main() -> None:
    """Parse the command line, render, write the result as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.tiles_run")
    parser.add_argument("--scene", required=True)
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--result", required=True)
    parser.add_argument("--res", default="1280x720")
    parser.add_argument("--samples", type=int, required=True)
    parser.add_argument("--grids", type=_grid, nargs="*", default=[(2, 2), (4, 4)])
    parser.add_argument("--denoise-overscan", type=int, default=0, help="else the worker's own")
    parser.add_argument("--probe", action="store_true", help="also time the probe's two small looks")
    parser.add_argument("--auto", action="store_true", help="also plan `--tiles auto` and render its grid")
    args = parser.parse_args()
    Path(args.result).write_text(json.dumps(run(args), indent=2))


if __name__ == "__main__":
    main()
