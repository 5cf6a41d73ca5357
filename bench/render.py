"""Render benchmark: the sample scene's 24 frames in one warm Blender, via the local stack, and fresh."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import boto3

from backend.aws.s3 import S3Store
from backend.aws.sqs import SqsQueue
from backend.commands import RenderRequest, parse_render
from backend.config import ENV_LOCAL_HOME
from backend.events import JobCompleted, parse_event
from backend.jobs import DynamoJobs
from backend.submit import SubmissionService
from local.stack import REPO_ROOT, subscribe_queue, use_local_aws
from local.supervisor import Supervisor

FRAMES = 24
RESOLUTION = "640x360"
TARGET_FRAME_S = 1.0
CALIBRATION_SAMPLES = "1,2,4,8,16,32"
CALIBRATION_FRAMES = 2
WORKER_COUNTS = (1, 2)  # 2 cores here, and Cycles already runs a thread per core in each process
SCENE_KEY = "scenes/turntable.blend"
LOG_HINT = "bench/results/pipeline.log"
JOB_TIMEOUT_S = 600.0  # only so a broken stack cannot hang the run; not a performance check


@dataclass(frozen=True)
class PipelineRun:
    """One timed job through the local stack."""

    workers: int
    seconds: float
    submit_s: float
    worker_peak_rss_mb: float


def _blender(*args: str) -> None:
    """Run `bench.blender_run` in a new Python; stdout is dropped because Cycles prints a line per tile."""
    command = [sys.executable, "-m", "bench.blender_run", *args]
    completed = subprocess.run(
        command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{completed.stderr[-3000:]}")


def build_scene(work: Path) -> Path:
    """Build the bundled sample scene into `work`."""
    scene = work / "turntable.blend"
    subprocess.run(
        [sys.executable, "-m", "blender_image.sample.build_sample_scene", str(scene)],
        cwd=REPO_ROOT, check=True, stdout=subprocess.DEVNULL,
    )
    return scene


def warm_renders(
    scene: Path, work: Path, samples: str, frames: int, stop_above: float = 0.0
) -> dict[int, list[float]]:
    """Per-frame seconds of back-to-back renders in one warm Blender process, per sample count."""
    result = work / "warm.json"
    _blender(
        "warm", "--scene", str(scene), "--out-dir", str(work / "warm"), "--res", RESOLUTION,
        "--samples", samples, "--frames", str(frames), "--stop-above", str(stop_above),
        "--result", str(result),
    )
    return {int(count): seconds for count, seconds in json.loads(result.read_text()).items()}


def fresh_renders(scene: Path, work: Path, samples: int, frames: int) -> list[float]:
    """Wall seconds of one new process per frame: start Python, import bpy, open, render, save, exit."""
    seconds = []
    for frame in range(1, frames + 1):
        started = time.perf_counter()
        _blender(
            "one", "--scene", str(scene), "--out-dir", str(work / "fresh"), "--res", RESOLUTION,
            "--samples", str(samples), "--frame", str(frame),
        )
        seconds.append(time.perf_counter() - started)
    return seconds


@contextmanager
def _inherited_output_to(log: TextIO) -> Iterator[None]:
    """Point fds 1 and 2 at `log` while the supervisor spawns: workers inherit them; the table stays clean."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _wait_until_idle(pids: list[int], quiet_s: float = 0.5, timeout_s: float = 120.0) -> None:
    """Wait until no worker used CPU for `quiet_s`: each has imported bpy and sits in its long poll."""
    deadline = time.monotonic() + timeout_s
    last = {pid: -1 for pid in pids}
    while time.monotonic() < deadline:
        now = {pid: _cpu_ticks(pid) for pid in pids}
        if now == last:
            return
        last = now
        time.sleep(quiet_s)
    raise RuntimeError(f"the render workers did not settle: see {LOG_HINT}")


def _peak_rss_mb(pid: int) -> float:
    """The process's high-water resident set (VmHWM) so far, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _wait_completed(sqs: Any, events_url: str, job_id: str) -> JobCompleted:
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while time.monotonic() < deadline:
        response = sqs.receive_message(QueueUrl=events_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in response.get("Messages", []):
            sqs.delete_message(QueueUrl=events_url, ReceiptHandle=message["ReceiptHandle"])
            event = parse_event(message["Body"])
            if isinstance(event, JobCompleted) and event.job_id == job_id:
                return event
    raise RuntimeError(f"job {job_id} did not complete in {JOB_TIMEOUT_S:.0f} s: see {LOG_HINT}")


def _submit(service: SubmissionService, request: RenderRequest) -> str:
    job = service.submit(request, requested_by="bench").job
    if job is None:
        raise RuntimeError("the benchmark's request was a dry run")
    return job.job_id


def pipeline(scene: Path, samples: int, workers: int, log: TextIO) -> PipelineRun:
    """Time submit → JobCompleted for the 24 frames on a fresh local stack with `workers` render workers."""
    supervisor = Supervisor(workers=workers, out=log)
    with _inherited_output_to(log):
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
        service = SubmissionService(store, DynamoJobs(settings.table_name), queue, settings)
        render_pids = [child.pid for name, child in supervisor.children.items() if name.startswith("render")]
        _wait_until_idle(render_pids)
        # Two tiny frames per worker, so each one opens the scene and pays its first Cycles render untimed.
        warm_up = [SCENE_KEY, f"1-{2 * workers}", "--res", "64x36", "--samples", "1", "--engine", "CYCLES"]
        _wait_completed(sqs, events_url, _submit(service, parse_render(warm_up)))
        request = parse_render(
            [SCENE_KEY, f"1-{FRAMES}", "--res", RESOLUTION, "--samples", str(samples), "--engine", "CYCLES"]
        )
        started = time.perf_counter()
        job_id = _submit(service, request)
        submitted = time.perf_counter()
        _wait_completed(sqs, events_url, job_id)
        seconds = time.perf_counter() - started
        rss = max(_peak_rss_mb(pid) for pid in render_pids)
    finally:
        supervisor.stop()
    return PipelineRun(workers, seconds, submitted - started, rss)


def run(log_path: Path) -> dict[str, Any]:
    """Calibrate, then measure the limit, the pipeline and fresh processes in one run; return render.json."""
    with tempfile.TemporaryDirectory(prefix="studiobot-bench-") as tmp, log_path.open("w") as log:
        work = Path(tmp)
        # The supervisor's state file goes here, so a stack a developer has up is neither read nor removed.
        os.environ[ENV_LOCAL_HOME] = str(work / "home")
        scene = build_scene(work)
        calibration = {
            count: sum(seconds) / len(seconds)
            for count, seconds in warm_renders(
                scene, work, CALIBRATION_SAMPLES, CALIBRATION_FRAMES, stop_above=2 * TARGET_FRAME_S
            ).items()
        }
        samples = min(calibration, key=lambda count: abs(calibration[count] - TARGET_FRAME_S))
        limit_frames = warm_renders(scene, work, str(samples), FRAMES)[samples]
        runs = [pipeline(scene, samples, workers, log) for workers in WORKER_COUNTS]
        fresh_frames = fresh_renders(scene, work, samples, FRAMES)
    best = min(runs, key=lambda item: item.seconds)
    limit_s, fresh_s = sum(limit_frames), sum(fresh_frames)
    return {
        "frames": FRAMES,
        "resolution": RESOLUTION,
        "engine": "CYCLES",
        "samples": samples,
        "calibration_s_per_frame": {str(count): round(value, 3) for count, value in calibration.items()},
        "limit_s": round(limit_s, 3),
        "limit_per_frame_s": round(limit_s / FRAMES, 3),
        "pipeline_s": round(best.seconds, 3),
        "workers": best.workers,
        "pipeline_runs": [
            {"workers": item.workers, "seconds": round(item.seconds, 3), "submit_s": round(item.submit_s, 3),
             "worker_peak_rss_mb": round(item.worker_peak_rss_mb, 1)}
            for item in runs
        ],
        "fresh_s": round(fresh_s, 3),
        "fresh_frames_measured": len(fresh_frames),
        "fresh_per_frame_s": round(fresh_s / len(fresh_frames), 3),
        "efficiency": round(limit_s / best.seconds, 3),
        "overhead_ratio": round((best.seconds - limit_s) / (fresh_s - limit_s), 3),
        "worker_peak_rss_mb": round(best.worker_peak_rss_mb, 1),
        "worker_peak_rss_method": "max VmHWM in /proc/<pid>/status of the render workers, read before stop()",
        "targets": {"efficiency": ">= 0.85", "overhead_ratio": "<= 0.25"},
    }
