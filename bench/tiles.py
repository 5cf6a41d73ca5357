"""Tiles benchmark: one heavy frame whole vs as 2×2 and 4×4 tiles (and the grid `--tiles auto` plans), stitched,
without and with denoising.

Measured: how far the stitched frame is from the whole one (largest difference, PSNR, a seam score), what the tiles
cost together and the slowest one (the frame's wall time with a worker per tile), and how well the probe's two
small looks predict the whole frame's seconds.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import OpenImageIO as oiio

from backend.render.tiles import Cut, grid_text
from blender_image.planning import extrapolate
from blender_image.stitch import stitch
from local.embedded.stack import REPO_ROOT

RESOLUTION = (1280, 720)  # its 4 px overscan is then negligible
SAMPLES = 20  # one whole frame ≥ 30 s on the 2-core VM (a sample costs ≈ 3.6 CPU-s here: glass, bounces)
GRIDS = ((2, 2), (4, 4))
VARIANTS = ("plain", "denoised")  # the scene without, then with Cycles' denoiser (OpenImageDenoise)


def _python(module: str, *args: str, log: Path) -> None:
    """Run `python -m module` from the repo, its output (Cycles prints a line per tile) to `log`."""
    command = [sys.executable, "-m", module, *args]
    with log.open("a") as out:
        completed = subprocess.run(command, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT)
    if completed.returncode != 0:
        tail = log.read_text()[-3000:]
        raise RuntimeError(f"{' '.join(command)} failed: {tail}")


def _pixels(path: Path) -> np.ndarray:
    """The image's 8-bit values, height × width × channels."""
    image = oiio.ImageBuf(str(path))
    pixels = image.get_pixels(oiio.UINT8)
    if pixels is None or image.has_error:
        raise RuntimeError(f"cannot read {path}: {image.geterror()}")
    return np.asarray(pixels, dtype=np.uint8)


def psnr(whole: np.ndarray, stitched: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB over every channel (8-bit peak); inf when the two are identical."""
    error = np.mean((whole.astype(np.float64) - stitched.astype(np.float64)) ** 2)
    return math.inf if error == 0 else float(10 * math.log10(255**2 / error))


def seam_score(pixels: np.ndarray, cut: Cut) -> float:
    """Mean absolute step between neighbouring pixels straddling a tile border ÷ the mean step between all other
    neighbours (on the mean of R, G and B): about 1 when the borders cannot be told from anywhere else."""
    light = pixels[..., :3].astype(np.float64).mean(axis=2)
    across = np.abs(np.diff(light, axis=1))  # [y, x]: between columns x and x + 1
    down = np.abs(np.diff(light, axis=0))  # [y, x]: between rows y and y + 1
    on_across = np.zeros(across.shape, dtype=bool)
    on_down = np.zeros(down.shape, dtype=bool)
    for tile in cut.tiles():
        if tile.inner.x0 > 0:
            on_across[:, tile.inner.x0 - 1] = True
        if tile.inner.y0 > 0:
            on_down[tile.inner.y0 - 1, :] = True
    border = np.concatenate([across[on_across], down[on_down]])
    rest = np.concatenate([across[~on_across], down[~on_down]])
    return float(border.mean() / rest.mean())


def _grid_result(whole: dict[str, Any], tiled: dict[str, Any], work: Path) -> dict[str, Any]:
    """Stitch one grid's tiles and compare the frame with the whole one; its costs against the whole frame's."""
    cut = Cut.from_text(tiled["cut"])
    tiles = tiled["tiles"]
    stitched_path = stitch(
        cut, [Path(tile["path"]) for tile in tiles], work / f"stitched-{cut.to_text()}.png"
    )
    reference, stitched = _pixels(Path(whole["path"])), _pixels(stitched_path)
    seconds = [tile["seconds"] for tile in tiles]
    cpu_seconds = [tile["cpu_seconds"] for tile in tiles]
    window_pixels = sum(tile.window.width * tile.window.height for tile in cut.tiles())
    ratio = psnr(reference, stitched)
    return {
        "overscan_px": cut.overscan,
        "pixel_max_abs_diff_255": int(np.abs(reference.astype(int) - stitched.astype(int)).max()),
        "psnr_db": None if math.isinf(ratio) else round(ratio, 2),
        "seam_score": round(seam_score(stitched, cut), 4),
        "seam_score_whole": round(seam_score(reference, cut), 4),
        "cost_ratio": round(sum(seconds) / whole["seconds"], 4),
        "latency_ratio": round(max(seconds) / whole["seconds"], 4),
        "cpu_cost_ratio": round(sum(cpu_seconds) / whole["cpu_seconds"], 4),
        "cpu_latency_ratio": round(max(cpu_seconds) / whole["cpu_seconds"], 4),
        "window_pixel_ratio": round(window_pixels / (cut.width * cut.height), 4),
        "tiles_s_sum": round(sum(seconds), 3),
        "tiles_cores_busy": round(sum(cpu_seconds) / sum(seconds), 2),
        "slowest_tile_s": round(max(seconds), 3),
        "tiles_s": [round(value, 3) for value in seconds],
        "tiles_cpu_s": [round(value, 3) for value in cpu_seconds],
    }


def _auto_result(whole: dict[str, Any], auto: dict[str, Any], work: Path) -> dict[str, Any]:
    """The grid `--tiles auto` planned, what its tiles cost against the whole frame, and what the plan said."""
    measured = _grid_result(whole, auto, work)
    return {
        "grid": "x".join(str(part) for part in auto["grid"]),
        "cost_ratio": measured["cost_ratio"],
        "cpu_cost_ratio": measured["cpu_cost_ratio"],
        "latency_ratio": measured["latency_ratio"],
        "planned_cost_ratio": round(auto["planned_cost_ratio"], 4),
        "strips_planned_cost_ratio": round(auto["strips_planned_cost_ratio"], 4),
        "usable_s": round(auto["usable_s"], 3),
        "predicted_s": round(auto["predicted_s"], 3),
        "fixed_s": round(auto["fixed_s"], 3),
        "psnr_db": measured["psnr_db"],
        "seam_score": measured["seam_score"],
    }


def _variant(
    scene: Path,
    work: Path,
    log: Path,
    probe: bool,
    auto: bool = False,
    grids: tuple[tuple[int, int], ...] = GRIDS,
) -> dict[str, Any]:
    """One warm Blender process's renders of `scene` (bench.tiles_run), compared; the probe's look and the
    `--tiles auto` plan if asked."""
    result = work / "result.json"
    width, height = RESOLUTION
    _python(
        "bench.tiles_run", "--scene", str(scene), "--out-dir", str(work), "--result", str(result),
        "--res", f"{width}x{height}", "--samples", str(SAMPLES),
        "--grids", *[f"{cols}x{rows}" for cols, rows in grids],
        *(["--probe"] if probe else []), *(["--auto"] if auto else []),
        log=log,
    )  # fmt: skip
    renders = json.loads(result.read_text())
    whole = renders["whole"]
    data: dict[str, Any] = {
        "whole_s": round(whole["seconds"], 3),
        "whole_cpu_s": round(whole["cpu_seconds"], 3),
        # CPU ÷ wall seconds: well under the machine's cores means other work was running (see the README).
        "whole_cores_busy": round(whole["cpu_seconds"] / whole["seconds"], 2),
        "grids": {grid_text(grid): _grid_result(whole, renders[grid_text(grid)], work) for grid in grids},
    }
    if auto:
        data["auto"] = _auto_result(whole, renders["auto"], work)
    if probe:
        small, smaller = ((look["seconds"], look["share"]) for look in renders["probe"])
        predicted = extrapolate(small, smaller)
        data["probe"] = {
            "looks_s": [round(small[0], 3), round(smaller[0], 3)],
            "predicted_s": round(predicted, 3),
            "actual_s": round(whole["seconds"], 3),
            "prediction_error": round(predicted / whole["seconds"] - 1, 4),
        }
    return data


def run(log_path: Path) -> dict[str, Any]:
    """Build the scene, render it whole and tiled without and with denoising, compare; return tiles.json."""
    log_path.write_text("")
    width, height = RESOLUTION
    with tempfile.TemporaryDirectory(prefix="studiobot-tiles-") as scratch:
        variants = {}
        for variant in VARIANTS:
            work = Path(scratch) / variant
            scene = work / "tiles.blend"
            options = ["--res", f"{width}x{height}", "--samples", str(SAMPLES)]
            denoise = ["--denoise"] if variant == "denoised" else []
            _python("bench.tiles_scene", str(scene), *options, *denoise, log=log_path)
            # `--tiles auto` on the denoised scene: its wide overscan is where thin strips cost most
            variants[variant] = _variant(
                scene, work, log_path, probe=variant == "plain", auto=variant == "denoised"
            )
    probe = variants["plain"].pop("probe")
    auto = variants["denoised"].pop("auto")
    return {
        "scene": "bench/tiles_scene.py: glass and metal spheres before a procedural wall, filling the frame",
        "resolution": f"{width}x{height}",
        "samples": SAMPLES,
        "engine": "CYCLES",
        "device": "CPU",
        "whole_s": variants["plain"]["whole_s"],
        **variants,
        "probe": probe,
        "auto": auto,
        "units": {
            "pixel_max_abs_diff_255": "8-bit steps (1 = 1/255) over every channel",
            "psnr_db": "null when identical (infinite)",
            "seconds": "time.perf_counter around BlenderRenderer.render in one warm process",
            "cpu": "time.process_time (all threads) around the same call: less sensitive to other load",
        },
        "targets": {
            "whole_s": ">= 30",
            "pixel_max_abs_diff_255 (plain)": "<= 1",
            "psnr_db (denoised)": ">= 40",
            "seam_score (denoised)": "<= 1.1",
            "cost_ratio (4×4)": "<= 1.25",
            "latency_ratio (4×4)": "<= 0.12",
            "prediction_error": "within ±0.25",
            "auto.cost_ratio": "<= 1.15",
        },
    }


def run_auto(log_path: Path) -> dict[str, Any]:
    """Only the `--tiles auto` case (the denoised scene, its whole frame and the planned grid): about 2–3 min."""
    log_path.write_text("")
    width, height = RESOLUTION
    with tempfile.TemporaryDirectory(prefix="studiobot-tiles-") as scratch:
        work = Path(scratch) / "denoised"
        scene = work / "tiles.blend"
        options = ["--res", f"{width}x{height}", "--samples", str(SAMPLES), "--denoise"]
        _python("bench.tiles_scene", str(scene), *options, log=log_path)
        data = _variant(scene, work, log_path, probe=False, auto=True, grids=())
    return {"whole_s": data["whole_s"], "whole_cores_busy": data["whole_cores_busy"], "auto": data["auto"]}


if __name__ == "__main__":  # `python -m bench.tiles auto`: only the `--tiles auto` case, printed
    if sys.argv[1:] != ["auto"]:
        sys.exit("usage: python -m bench.tiles auto   (the whole tiles bench: python -m bench tiles)")
    print(json.dumps(run_auto(REPO_ROOT / "bench" / "results" / "tiles_auto.log"), indent=2))
