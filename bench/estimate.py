"""Estimate benchmark: how close the probe frames' estimate comes to what the whole job then measures.

On the local stack (one render worker, real Blender), the sample scene at two resolutions: each job has more frames
than the probe threshold, so its first, middle and last frames render first and give the estimate; the rest then
renders. Compared side by side in the same run: estimated render seconds (the probes' mean × frames) against the
sum of every frame's measured render seconds, and the same for billed seconds (what the cost estimate uses).

`python -m bench estimate` runs `python -m bench.estimate --child …` in a process of its own (moto's server keeps
its state in module globals: one stack per process).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from backend.config import ENV_ADMIN_OVER, ENV_CONFIRM_OVER, ENV_LOCAL_HOME, ENV_PROBE_OVER
from entry.wiring import Services

FRAMES = 30  # over the probe threshold below: probes 1, 16 and 30
PROBE_OVER = 10
RESOLUTIONS = {"small": "320x180", "large": "640x360"}
SAMPLES = 8


def _job(service: Any, jobs: Any, sqs: Any, events_url: str, resolution: str) -> dict[str, Any]:
    from backend.render.grammar import parse_render
    from bench.pipeline import SCENE_KEY, wait_completed

    words = [SCENE_KEY, f"1-{FRAMES}", "--res", resolution, "--samples", str(SAMPLES), "--engine", "CYCLES"]
    job = service.submit(parse_render(words), requested_by="bench").job
    wait_completed(sqs, events_url, job.job_id)
    done = jobs.get(job.job_id)
    if done.estimate is None:
        raise RuntimeError(f"job {job.job_id} was not estimated (status {done.status})")
    records = jobs.frames(job.job_id)
    measured_render = sum(record.seconds for record in records)
    measured_billed = sum(record.billed_s for record in records)
    estimated_render = done.estimate.render_s * done.total
    estimated_billed = done.estimate.frame_s * done.total
    return {
        "resolution": resolution,
        "frames": done.total,
        "probe_frames": list(done.probe_frames),
        "estimated_render_s": round(estimated_render, 3),
        "measured_render_s": round(measured_render, 3),
        "estimate_ratio": round(estimated_render / measured_render, 3),
        "estimated_billed_s": round(estimated_billed, 3),
        "measured_billed_s": round(measured_billed, 3),
        "billed_ratio": round(estimated_billed / measured_billed, 3),
        "estimated_cost_usd": round(done.estimate.cost_usd, 6),
    }


def child(scene: Path, result: Path) -> None:
    """Start a one-worker stack, warm it, then render one job per resolution and compare."""
    import boto3

    from backend.aws.s3 import S3Store
    from backend.config import Settings
    from backend.render.store import DynamoJobs
    from bench.pipeline import SCENE_KEY, submit, wait_completed, wait_until_idle
    from local.embedded.stack import subscribe_queue, use_local_aws
    from local.embedded.supervisor import Supervisor

    supervisor = Supervisor(workers=1, out=sys.stdout)
    info = supervisor.start()
    try:
        use_local_aws(info.endpoint)
        settings = Settings.from_env({**os.environ, **info.environ()})  # the workers' costs and thresholds
        store = S3Store()
        store.upload(scene, settings.scenes_bucket, SCENE_KEY)
        sqs, sns = boto3.client("sqs"), boto3.client("sns")
        events_url = subscribe_queue(sqs, sns, info.events_topic_arn, "bench-estimate-events")
        jobs = DynamoJobs(settings.table_name)
        service = Services(settings, store=store, jobs=jobs).submissions
        wait_until_idle(
            [child.pid for name, child in supervisor.children.items() if name.startswith("render")]
        )
        # Two tiny frames first, so Blender's first render in the worker (kernel load) is not a probe's.
        wait_completed(sqs, events_url, submit(service, "1-2", "64x36", 1))
        runs = {
            name: _job(service, jobs, sqs, events_url, resolution) for name, resolution in RESOLUTIONS.items()
        }
    finally:
        supervisor.stop()
    result.write_text(json.dumps(runs))


def run() -> dict[str, Any]:
    """The child's comparison, plus the two headline ratios."""
    from bench.render import _python, build_scene

    with tempfile.TemporaryDirectory(prefix="studiobot-bench-estimate-") as tmp:
        work = Path(tmp)
        scene = build_scene(work)
        result = work / "estimate.json"
        environ = {
            ENV_LOCAL_HOME: str(work / "home"),
            ENV_PROBE_OVER: str(PROBE_OVER),
            ENV_CONFIRM_OVER: "1e9",  # nobody needs to press Submit: the benchmark measures the estimate
            ENV_ADMIN_OVER: "1e9",
        }
        with (work / "stack.log").open("w") as log:
            _python(
                "bench.estimate", "--child", "--scene", str(scene), "--result", str(result),
                log=log, env={**os.environ, **environ},
            )  # fmt: skip
        runs = json.loads(result.read_text())
    return {
        "estimate_ratio_small": runs["small"]["estimate_ratio"],
        "estimate_ratio_large": runs["large"]["estimate_ratio"],
        "samples": SAMPLES,
        "probe_over_frames": PROBE_OVER,
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.estimate")
    parser.add_argument("--child", action="store_true", required=True)
    parser.add_argument("--scene", type=Path, required=True)
    parser.add_argument("--result", type=Path, required=True)
    args = parser.parse_args()
    child(args.scene, args.result)


if __name__ == "__main__":
    main()
