"""The Blender side of the render benchmark, run in a new Python: `python -m bench.blender_run warm|one`.

`warm` opens the scene once and times renders back to back (calibration and the limit); `one` renders a single
frame and exits (the fresh-process-per-frame design, timed from outside). Both use the worker's
BlenderRenderer, so the render code is the one the pipeline runs.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from backend.render.tasks import RenderSettings
from blender_image.blender import BlenderRenderer

# An untimed first render at this size: a new process's first Cycles render pays one-off setup, and the
# pipeline's workers pay it in the benchmark's warm-up job, not in the timed job.
WARM_UP = RenderSettings(resolution=(64, 36), samples=1, engine="CYCLES")


def _settings(resolution: str, samples: int) -> RenderSettings:
    width, height = (int(part) for part in resolution.split("x"))
    return RenderSettings(resolution=(width, height), samples=samples, engine="CYCLES")


def warm(args: argparse.Namespace) -> None:
    """Time `--frames` renders per sample count in this one process; write `{"wall"|"cpu": {samples: [seconds…]}}`
    as JSON."""
    renderer = BlenderRenderer()
    out_stem = Path(args.out_dir) / "frame"
    renderer.render(Path(args.scene), 1, WARM_UP, out_stem)
    timings: dict[int, list[float]] = {}
    cpu: dict[
        int, list[float]
    ] = {}  # the process's CPU seconds a frame (Cycles' threads): what the cores gave it
    for samples in (int(value) for value in args.samples.split(",")):
        settings = _settings(args.res, samples)
        seconds, used = [], []
        for frame in range(1, args.frames + 1):
            started, cpu_started = time.perf_counter(), time.process_time()
            renderer.render(Path(args.scene), frame, settings, out_stem)
            seconds.append(time.perf_counter() - started)
            used.append(time.process_time() - cpu_started)
        timings[samples], cpu[samples] = seconds, used
        # Calibration stops once frames are clearly slower than wanted: higher counts only get slower.
        if args.stop_above and sum(seconds) / len(seconds) > args.stop_above:
            break
    Path(args.result).write_text(json.dumps({"wall": timings, "cpu": cpu}))


def one(args: argparse.Namespace) -> None:
    """Render a single frame, as a process started for just that frame would."""
    settings = _settings(args.res, args.samples)
    BlenderRenderer().render(Path(args.scene), args.frame, settings, Path(args.out_dir) / "frame")


def main() -> None:
    """Parse the command line and run the mode."""
    parser = argparse.ArgumentParser(prog="python -m bench.blender_run")
    modes = parser.add_subparsers(dest="mode", required=True)
    warm_parser = modes.add_parser("warm")
    warm_parser.add_argument("--samples", required=True, help="comma-separated sample counts")
    warm_parser.add_argument("--frames", type=int, required=True)
    warm_parser.add_argument("--stop-above", type=float, default=0.0)
    warm_parser.add_argument("--result", required=True)
    one_parser = modes.add_parser("one")
    one_parser.add_argument("--samples", type=int, required=True)
    one_parser.add_argument("--frame", type=int, required=True)
    for mode_parser in (warm_parser, one_parser):
        mode_parser.add_argument("--scene", required=True)
        mode_parser.add_argument("--out-dir", required=True)
        mode_parser.add_argument("--res", default="640x360")
    args = parser.parse_args()
    if args.mode == "warm":
        warm(args)
    else:
        one(args)


if __name__ == "__main__":
    main()
