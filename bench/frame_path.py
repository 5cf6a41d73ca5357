"""A frame's glue on the render's path, through the local poller: `python -m bench.frame_path [--frames 24]`.

The worker's own code on moto's server (in this process), fed by `QueuePoller` as the local workers are, with a
stand-in render that sleeps `--render-s` (Blender releases the GIL while it renders, so the glue's threads run
beside it) and writes a Cycles-sized PNG. Three ways, interleaved, `--rounds` times each, the fastest of each shown:
"settled in the task" (Lambda's: a task's deliveries are done before its handler returns), and "settled behind" (the
local workers': a task's last frame is delivered while the next task renders, its message deleted after), its
delivery held until the next render starts (as the worker does) or sent at once. Prints, in ms a frame, the wall
time beyond the renders' sleep: the glue the frame loop waits for, receive and delete included.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import boto3

from backend.commands import split_words
from backend.render.grammar import parse_render
from backend.render.tasks import RenderSettings, RenderTask
from bench.frame_profile import Copies
from blender_image.glue import HOLD_S
from blender_image.scene_cache import SceneCache
from blender_image.worker import RenderWorker
from entry.wiring import Services
from local.embedded.poller import Handler, QueuePoller
from local.embedded.render_behind import settling
from local.embedded.stack import deploy, start_moto_server, use_local_aws


class Sleeps(Copies):
    """`Copies`, each render first sleeping `render_s` (a render that holds no GIL)."""

    def __init__(self, work: Path, render_s: float) -> None:
        super().__init__(work)
        self.render_s = render_s

    def render(
        self,
        scene_path: Path,
        frame: int,
        settings: RenderSettings,
        out_stem: Path,
        allow_missing: bool = False,
        tile: int | None = None,
    ) -> Path:
        time.sleep(self.render_s)
        return super().render(scene_path, frame, settings, out_stem, allow_missing, tile)


class Counted:
    """The worker's reporter, noting when the `frames`-th frame is recorded."""

    def __init__(self, reporter: Any, frames: int) -> None:
        self.reporter, self.frames, self.recorded = reporter, frames, 0
        self.last = threading.Event()
        self.at = 0.0

    def frame_done(self, *args: Any, **kwargs: Any) -> Any:
        done = self.reporter.frame_done(*args, **kwargs)
        self.recorded += 1
        if self.recorded == self.frames:
            self.at = time.perf_counter()
            self.last.set()
        return done

    def __getattr__(self, name: str) -> Any:
        return getattr(self.reporter, name)


def one_job(services: Services, worker: RenderWorker, frames: int, behind: bool) -> float:
    """Submit a `frames`-frame job, run it through a poller; seconds from the poller's start to the last record."""
    settings = services.settings
    counted = Counted(services.reporter, frames)
    worker.reporter = counted  # type: ignore[assignment]
    request = parse_render(split_words(f"shot.blend 1-{frames} --res 640x360"))
    assert services.submissions.submit(request, requested_by="U0BENCH").job is not None

    def task(record: Any) -> RenderTask:
        return RenderTask.from_json(record["body"] if isinstance(record, dict) else record.body)

    def settled(event: dict[str, Any], context: Any) -> None:  # Lambda's: each task settles before it returns
        for record in event["Records"]:
            worker.run(task(record), lambda: 900.0)

    behind_ = settling(lambda record, context: worker.run(task(record), lambda: 900.0, settle=False))
    handler: Handler = behind_ if behind else settled
    lanes = list(settings.lanes.urls(settings.render_queue_url, gpu=False).values())
    poller = QueuePoller(boto3.client("sqs"), lanes, handler, "frame-path", wait_s=1)
    runner = threading.Thread(target=poller.run)
    started = time.perf_counter()
    runner.start()
    counted.last.wait(600)
    poller.stop()
    runner.join()
    return counted.at - started


def measure(frames: int, render_s: float, rounds: int) -> str:
    """Both ways, interleaved; the report."""
    logging.getLogger("studiobot-render").setLevel(logging.WARNING)
    logging.getLogger("backend.render.bare_scenes").setLevel(logging.ERROR)
    server = start_moto_server()
    ways = {
        "settled in the task (Lambda's way)": (False, HOLD_S),
        "settled behind, sent at once": (True, 0.0),
    }
    ways["settled behind, held for the next render"] = (True, HOLD_S)
    seconds: dict[str, list[float]] = {name: [] for name in ways}
    try:
        info = deploy(server.endpoint, stack_name="studiobot-bench-path")
        use_local_aws(server.endpoint)
        services = Services(info.settings())
        boto3.client("s3").put_object(
            Bucket=services.settings.scenes_bucket, Key="scenes/shot.blend", Body=b"B"
        )
        with tempfile.TemporaryDirectory(prefix="studiobot-path-") as scratch:
            work = Path(scratch)
            worker = RenderWorker(
                jobs=services.jobs,
                reporter=services.reporter,
                scenes=SceneCache(services.store, work / "scenes", services.settings.scenes_prefix),
                renderer=Sleeps(work, render_s),
                uploader=services.store,
                work_dir=work,
            )
            for round_ in range(rounds):
                for name in list(ways)[:: 1 if round_ % 2 == 0 else -1]:
                    behind, worker.courier.hold_s = ways[name]
                    seconds[name].append(one_job(services, worker, frames, behind))
    finally:
        server.stop()
    lines = [
        f"{frames} frames, a {render_s * 1000:.0f} ms render each; ms a frame beyond the renders (min of {rounds}):"
    ]
    for name, spent_s in seconds.items():
        glue = [(spent / frames - render_s) * 1000 for spent in spent_s]
        lines.append(f"  {name:<42} {min(glue):6.1f}   (runs: {', '.join(f'{ms:.1f}' for ms in glue)})")
    return "\n".join(lines)


def main() -> None:
    """Parse the command line, measure, print."""
    parser = argparse.ArgumentParser(prog="python -m bench.frame_path", description=__doc__)
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--render-s", type=float, default=0.7)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(measure(args.frames, args.render_s, args.rounds))


if __name__ == "__main__":
    main()
