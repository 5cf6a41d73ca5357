"""Where a frame's time goes in the render worker, Blender aside: `python -m bench.frame_profile [--frames 24]`.

The worker's own code (`RenderWorker`, the scene cache, the records, the uploads) on moto's server, with a stand-in
renderer that copies a 640×360 picture of a Cycles frame's size, so what is left is the glue. Each task is received
and deleted as the local poller does. Prints the worker's stages (`stages_ms`, as it logs them) and the receive and
delete around them, in ms a frame (wall and this thread's CPU), the AWS calls a frame and the ms each takes, by
operation, then cProfile's heaviest calls of the loop.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import pstats
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, cast

import boto3
from PIL import Image

from backend.commands import split_words
from backend.render.grammar import parse_render
from backend.render.tasks import RenderSettings, RenderTask
from blender_image.scene_cache import SceneCache
from blender_image.worker import RenderWorker
from entry.wiring import Services
from local.embedded.stack import deploy, start_moto_server, use_local_aws

SORT = "cumulative"  # cProfile's order (`tottime`: where the time is spent itself)


class Copies:
    """A renderer that writes a copy of one noisy 640×360 PNG per frame (a Cycles frame's size on disk)."""

    def __init__(self, work: Path) -> None:
        self.picture = work / "picture.png"
        Image.effect_noise((640, 360), 40).convert("RGB").save(self.picture)
        self.cut = None

    def render(
        self,
        scene_path: Path,
        frame: int,
        settings: RenderSettings,
        out_stem: Path,
        allow_missing: bool = False,
        tile: int | None = None,
    ) -> Path:
        path = out_stem.parent / f"{out_stem.name}_{frame:04d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.picture.read_bytes())
        return path

    def measure(
        self,
        scene_path: Path,
        frame: int,
        settings: RenderSettings,
        scale: float,
        allow_missing: bool = False,
    ) -> tuple[float, float]:
        return 0.0, scale * scale


def profile(frames: int, sort: str = SORT) -> str:
    """Render a `frames`-frame job through one worker; return the report."""
    logging.getLogger("studiobot-render").setLevel(logging.WARNING)
    logging.getLogger("backend.render.bare_scenes").setLevel(logging.ERROR)  # a stand-in scene, not a .blend
    server = start_moto_server()
    try:
        info = deploy(server.endpoint, stack_name="studiobot-bench-frame")
        use_local_aws(server.endpoint)
        settings = info.settings()
        services = Services(settings)
        sqs = boto3.client("sqs")
        boto3.client("s3").put_object(Bucket=settings.scenes_bucket, Key="scenes/shot.blend", Body=b"BLENDER")
        with tempfile.TemporaryDirectory(prefix="studiobot-frame-") as scratch:
            work = Path(scratch)
            worker = RenderWorker(
                jobs=services.jobs,
                reporter=services.reporter,
                scenes=SceneCache(services.store, work / "scenes", settings.scenes_prefix),
                renderer=Copies(work),
                uploader=services.store,
                work_dir=work,
            )
            request = parse_render(split_words(f"shot.blend 1-{frames} --res 640x360"))
            job = services.submissions.submit(request, requested_by="U0BENCH").job
            assert job is not None
            wall: dict[str, float] = defaultdict(float)
            cpu: dict[str, float] = defaultdict(float)
            calls: dict[str, int] = defaultdict(int)
            waited: dict[str, float] = defaultdict(float)

            def count(model: object, context: dict[str, Any], **_: object) -> None:
                calls[getattr(model, "name", "?")] += 1
                context["bench_sent_at"] = time.perf_counter()

            def answered(model: object, context: dict[str, Any], **_: object) -> None:
                if (
                    "bench_sent_at" in context
                ):  # a call's wall time, its signing, sending and parsing included
                    waited[getattr(model, "name", "?")] += time.perf_counter() - context["bench_sent_at"]

            for client in (
                cast(Any, services.jobs).client,
                services.store.client,
                cast(Any, services.events).client,
                sqs,
            ):
                client.meta.events.register("before-call", count)
                client.meta.events.register("after-call", answered)
            profiler = cProfile.Profile()
            profiler.enable()
            done = 0
            while done < frames:
                started, used = time.perf_counter(), time.thread_time()
                got = sqs.receive_message(QueueUrl=settings.render_queue_url, WaitTimeSeconds=1)
                wall["receive"] += time.perf_counter() - started
                cpu["receive"] += time.thread_time() - used
                for message in got.get("Messages", []):
                    started, used = time.perf_counter(), time.thread_time()
                    result = worker.run(RenderTask.from_json(message["Body"]), lambda: 900.0)
                    wall["worker.run"] += time.perf_counter() - started
                    cpu["worker.run"] += time.thread_time() - used
                    stages = worker.last_stages  # "behind": on the courier, while the next frame renders
                    for stage, seconds in stages.wall.items():
                        named = f"  {stage}" + (" (behind)" if stage in stages.behind else "")
                        wall[named] += seconds
                        cpu[named] += stages.cpu[stage]
                    started, used = time.perf_counter(), time.thread_time()
                    sqs.delete_message(
                        QueueUrl=settings.render_queue_url, ReceiptHandle=message["ReceiptHandle"]
                    )
                    wall["delete"] += time.perf_counter() - started
                    cpu["delete"] += time.thread_time() - used
                    done += len(result.rendered) + len(result.skipped)
            profiler.disable()
            status = services.jobs.get(job.job_id).status
    finally:
        server.stop()
    lines = [
        f"{frames} frames, job {status}; ms a frame (wall / CPU: this thread's for receive, delete and worker.run, the process's for stages):"
    ]
    lines += [
        f"  {stage:<20} {seconds * 1000 / frames:7.1f} / {cpu.get(stage, 0) * 1000 / frames:6.1f}"
        for stage, seconds in wall.items()
    ]
    lines.append(
        "AWS calls a frame: " + ", ".join(f"{name} {n / frames:.2f}" for name, n in sorted(calls.items()))
    )
    lines.append(
        "ms a call (wall, side-by-side calls each counted whole): "
        + ", ".join(f"{name} {waited[name] * 1000 / n:.1f}" for name, n in sorted(calls.items()))
    )
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(sort).print_stats(35)
    return "\n".join(lines) + "\n" + out.getvalue()


def main() -> None:
    """Parse the command line, profile, print."""
    parser = argparse.ArgumentParser(prog="python -m bench.frame_profile", description=__doc__)
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--sort", default=SORT, help="cProfile's order: cumulative, tottime, ncalls…")
    args = parser.parse_args()
    print(profile(args.frames, args.sort))


if __name__ == "__main__":
    main()
