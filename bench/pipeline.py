"""One timed job through the embedded local stack: `python -m bench.pipeline --scene S --samples N --workers W`.

Run in a process of its own per worker count: moto's server keeps its state in module globals, so a second
Supervisor in the same process would find the first one's stack and fail to deploy.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import boto3

from backend.aws.s3 import S3Store
from backend.aws.sqs import SqsQueue
from backend.event_wire import parse_event
from backend.events import JobCompleted
from backend.render.blenders import DEFAULT_BLENDER
from backend.render.grammar import RenderRequest, parse_render
from backend.render.store import DynamoJobs
from backend.render.submit import SubmissionService
from entry.wiring import Services
from local.embedded.stack import subscribe_queue, use_local_aws
from local.embedded.supervisor import Supervisor, home

SCENE_KEY = "scenes/turntable.blend"
JOB_TIMEOUT_S = 600.0  # only so a broken stack cannot hang the run; not a performance check


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def wait_until_idle(pids: list[int], quiet_s: float = 0.5, timeout_s: float = 120.0) -> None:
    """Wait until no worker used CPU for `quiet_s`: each has imported bpy and sits in its long poll."""
    deadline = time.monotonic() + timeout_s
    last = {pid: -1 for pid in pids}
    while time.monotonic() < deadline:
        now = {pid: _cpu_ticks(pid) for pid in pids}
        if now == last:
            return
        last = now
        time.sleep(quiet_s)
    raise RuntimeError(f"the render workers were still busy after {timeout_s:.0f} s")


def peak_rss_mb(pid: int) -> float:
    """The process's high-water resident set so far (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def frame_stages(job_id: str) -> list[dict[str, dict[str, float]]]:
    """Each frame's `stages_ms` as the render workers logged it ("frame rendered", JSON among Blender's output,
    in `<home>/render-*.log`), and its `behind_ms`: the delivery made while the next frame rendered."""
    found = []
    for log in sorted(home().glob("render-*.log")):
        for line in log.read_text(errors="replace").splitlines():
            if job_id not in line or '"frame rendered"' not in line:
                continue
            try:
                entry = json.loads(line[line.index("{") :])
            except ValueError:  # another writer's output inside the line
                continue
            found.append(
                {
                    "wall": entry.get("stages_ms", {}),
                    "cpu": entry.get("stages_cpu_ms", {}),
                    "behind": entry.get("behind_ms", {}),
                    "behind_cpu": entry.get("behind_cpu_ms", {}),
                }
            )
    return found


def cpu_seconds(pids: dict[str, int]) -> dict[str, int]:
    """CPU ticks used so far by each named process (this one too: moto's server and the stack's threads)."""
    return {name: _cpu_ticks(pid) for name, pid in pids.items()}


def wait_completed(sqs: Any, events_url: str, job_id: str) -> JobCompleted:
    """Read the events queue until this job's JobCompleted arrives."""
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while time.monotonic() < deadline:
        response = sqs.receive_message(QueueUrl=events_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in response.get("Messages", []):
            sqs.delete_message(QueueUrl=events_url, ReceiptHandle=message["ReceiptHandle"])
            event = parse_event(message["Body"])
            if isinstance(event, JobCompleted) and event.job_id == job_id:
                return event
    raise RuntimeError(f"job {job_id} did not complete in {JOB_TIMEOUT_S:.0f} s")


def submit(service: SubmissionService, frames: str, resolution: str, samples: int) -> str:
    """Submit a Cycles render of the scene, in the words `studiobot render` takes; return the job id."""
    words = [SCENE_KEY, frames, "--res", resolution, "--samples", str(samples), "--engine", "CYCLES"]
    request: RenderRequest = parse_render(words)
    job = service.submit(request, requested_by="bench").job
    if job is None:
        raise RuntimeError("the benchmark's request was a dry run")
    return job.job_id


def measure(
    scene: Path, samples: int, workers: int, frames: int, resolution: str, blender: str = DEFAULT_BLENDER
) -> dict[str, Any]:
    """Start the stack, warm the workers, then time submit → JobCompleted for `frames` frames (rendered by the
    workers of `blender`, the stack's one version: the scene must be saved by it or an older one)."""
    supervisor = Supervisor(workers=workers, out=sys.stdout, blenders=(blender,))
    info = supervisor.start()
    try:
        use_local_aws(info.endpoint)
        settings = info.settings()
        store = S3Store()
        store.upload(scene, settings.scenes_bucket, SCENE_KEY)
        sqs, sns = boto3.client("sqs"), boto3.client("sns")
        # Subscribed before anything is submitted, so no completion can be missed.
        events_url = subscribe_queue(sqs, sns, info.events_topic_arn, "bench-events")
        queue = SqsQueue(settings.render_queue_url)
        jobs = DynamoJobs(settings.table_name)
        service = Services(settings, store=store, jobs=jobs, queue=queue).submissions
        render_pids = [child.pid for name, child in supervisor.children.items() if name.startswith("render")]
        wait_until_idle(render_pids)
        # Two tiny frames per worker, so each one opens the scene and pays its first Cycles render untimed.
        wait_completed(sqs, events_url, submit(service, f"1-{2 * workers}", "64x36", 1))
        processes = {"stack (moto, notifier, this)": os.getpid()}
        processes.update({name: child.pid for name, child in supervisor.children.items()})
        ticks = cpu_seconds(processes)
        started = time.perf_counter()
        job_id = submit(service, f"1-{frames}", resolution, samples)
        submitted = time.perf_counter()
        wait_completed(sqs, events_url, job_id)
        seconds = time.perf_counter() - started
        used = {name: spent - ticks[name] for name, spent in cpu_seconds(processes).items()}
        rss = max(peak_rss_mb(pid) for pid in render_pids)
        # What the workers timed around Blender alone: the rest of the wall time is the pipeline's own.
        render_s = sum(record.seconds for record in jobs.frames(job_id))
    finally:
        supervisor.stop()
    return {
        "workers": workers,
        "job_id": job_id,
        "seconds": round(seconds, 3),
        "submit_s": round(submitted - started, 3),
        "worker_render_s": round(render_s, 3),
        "worker_peak_rss_mb": round(rss, 1),
        # CPU seconds each process of the stack used during the timed job: what the renders shared the cores with.
        "cpu_s_by_process": {
            name: round(spent / os.sysconf("SC_CLK_TCK"), 2) for name, spent in used.items()
        },
        "frame_stages": frame_stages(job_id),
    }


def main() -> None:
    """Parse the command line, measure, write the result as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.pipeline")
    parser.add_argument("--scene", type=Path, required=True)
    parser.add_argument("--samples", type=int, required=True)
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--res", default="640x360")
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--blender", default=DEFAULT_BLENDER, help="the Blender whose workers render it")
    args = parser.parse_args()
    result = measure(args.scene, args.samples, args.workers, args.frames, args.res, args.blender)
    args.result.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
