"""Sharing benchmark: a 10-frame job submitted 10 s after a 2,000-frame one, on the local stack at 2 workers.

`python -m bench sharing` runs each scenario in a `python -m bench.sharing SCENARIO` process of its own (moto keeps
its state in module globals): behind the big job with fair queues (`fair`, the default); the same with the small job
`--priority urgent` (`urgent`); and with the queues first in, first out (`fifo`: moto's own order,
`STUDIOBOT_LOCAL_FAIR_QUEUES=off`, today's behaviour before fair queues). Each stack first times the small job alone
on its idle farm, three times, so that the ratio's two sides run seconds apart in the same stack (the machine is
shared: a burst of other work then hits both). Workbench frames at 32×18, a task a frame. The small job's
first-frame wait and completion come from its job record (`started_at`, `finished_at` less `created_at`); once it
is done the big job is cancelled, so 2,000 frames render at most once.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from backend.config import ENV_LOCAL_FAIR_QUEUES, ENV_LOCAL_HOME
from bench.render import _python
from bench.verdict import Bounds, Rows

SCENARIOS = ("fair", "urgent", "fifo")
ALONE_RUNS = (
    3  # the small job alone on the idle farm, in each scenario's stack before the big job: the median counts
)
WORKERS = 2
BIG_FRAMES, SMALL_FRAMES = 2_000, 10
DELAY_S = 10.0  # the small job is submitted this long after the big one
RESOLUTION, ENGINE = "32x18", "BLENDER_WORKBENCH"
SCENE_KEY = "scenes/turntable.blend"
WARM_FRAMES = 2 * WORKERS  # each worker opens the scene and renders untimed before anything is measured
JOB_TIMEOUT_S = 1_800.0  # only so a broken stack cannot hang the run
FAIR_TARGET, FIFO_TARGET = 3.0, 20.0  # the small job's completion ÷ alone: fair at most, FIFO at least
# Behind a big job the small one renders on at most the 2 workers it has alone; all a busy farm saves is the idle
# workers' notice of a new task (an idle worker waits in a 1 s long poll of the normal lane, so an urgent task may
# wait for it to end; a busy one asks every lane between two tasks). Below this ratio, other work slowed the alone
# runs.
SHARED_NOT_FASTER = Bounds(
    0.4, float("inf"), "a farm shared with a big job saves at most the idle workers' notice"
)


def run(log_path: Path, big_frames: int = BIG_FRAMES, delay_s: float = DELAY_S) -> dict[str, Any]:
    """Every scenario in a process of its own (their output goes to `log_path`); return sharing.json.
    `big_frames`, `delay_s`: a smaller big job for a quick try of the benchmark itself."""
    scenarios: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="studiobot-bench-sharing-") as folder, log_path.open("w") as log:
        from bench.render import build_scene

        work = Path(folder)
        scene = build_scene(work)
        for name in SCENARIOS:
            if name == "urgent" and not priorities_known():
                scenarios[name] = {"skipped": "`--priority` is not in `studiobot render` on this branch yet"}
                continue
            home = work / name
            home.mkdir()
            environ = {**os.environ, ENV_LOCAL_HOME: str(home)}
            if name == "fifo":
                environ[ENV_LOCAL_FAIR_QUEUES] = "off"
            result = work / f"{name}.json"
            sizes = ["--big-frames", str(big_frames), "--delay", str(delay_s)]
            started = time.perf_counter()
            _python(
                "bench.sharing",
                name,
                "--scene",
                str(scene),
                *sizes,
                "--result",
                str(result),
                log=log,
                env=environ,
            )
            scenarios[name] = json.loads(result.read_text()) | {
                "bench_s": round(time.perf_counter() - started, 1)
            }
    return summary(scenarios, big_frames, delay_s)


def priorities_known() -> bool:
    """Whether `studiobot render` takes `--priority` (issue 25's lanes) on this branch."""
    from backend.errors import ValidationError
    from backend.render.grammar import parse_render

    try:
        parse_render(["shot.blend", "1", "--priority", "urgent"])
    except ValidationError:
        return False
    return True


def median(values: list[float]) -> float | None:
    """The middle value (the mean of the middle two), None of nothing."""
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else round((ordered[middle - 1] + ordered[middle]) / 2, 2)


def ratio(shared_s: float | None, alone_s: float | None) -> float | None:
    """The small job's completion sharing the farm ÷ alone on an idle farm (None where either is missing)."""
    if shared_s is None or not alone_s:
        return None
    return round(shared_s / alone_s, 2)


def summary(scenarios: dict[str, dict[str, Any]], big_frames: int, delay_s: float) -> dict[str, Any]:
    """The headline keys over the scenarios' results: each scenario's small-job times, and its ratio to the small
    job alone in the same stack just before; `small_job_alone_s` is the median of every alone run."""
    ran = {name: data for name, data in scenarios.items() if "skipped" not in data}
    alone_runs = [run for data in ran.values() for run in data["alone_runs"]]
    times = {name: ran.get(name, {}).get("small_completion_s") for name in SCENARIOS}
    waits = {name: ran.get(name, {}).get("small_first_frame_wait_s") for name in SCENARIOS}
    return {
        "workers": WORKERS,
        "big_frames": big_frames,
        "small_frames": SMALL_FRAMES,
        "delay_s": delay_s,
        "resolution": RESOLUTION,
        "engine": ENGINE,
        "frames_per_task": 1,
        # Blender's own time a frame and the whole task's a worker, as the idle farm measured them (medians)
        "render_s_per_frame": median([run["render_s_per_frame"] for run in alone_runs]),
        "task_s_per_worker": median([run["completion_s"] * WORKERS / SMALL_FRAMES for run in alone_runs]),
        "small_job_alone_s": median([run["completion_s"] for run in alone_runs]),
        **{f"small_job_{name}_s": times[name] for name in SCENARIOS},
        "small_first_frame_wait_alone_s": median([run["first_frame_wait_s"] for run in alone_runs]),
        **{f"small_first_frame_wait_{name}_s": waits[name] for name in SCENARIOS},
        **{f"{name}_ratio": ratio(times[name], ran.get(name, {}).get("alone_s")) for name in SCENARIOS},
        "fair_target": FAIR_TARGET,
        "fifo_target": FIFO_TARGET,
        "load_average_1m_by_scenario": {name: data.get("load_average_1m") for name, data in ran.items()},
        "bench_s": round(sum(data.get("bench_s", 0.0) for data in scenarios.values()), 1),
        "scenarios": scenarios,
    }


def sharing_rows(rows: Rows, data: dict[str, Any]) -> None:
    """The table's rows: the small job's completion and first-frame wait in each scenario, the ratios' verdicts."""
    small, workers = data["small_frames"], data["workers"]
    behind = f"{small} frames {data['delay_s']:g} s behind {data['big_frames']:,}, {workers} workers"
    rows.add(
        "sharing: a frame's render_s / a task's s a worker (Workbench 32×18)",
        f"{_seconds(data['render_s_per_frame'])} / {_seconds(data['task_s_per_worker'])}",
    )
    wait = data["small_first_frame_wait_alone_s"]
    rows.add(
        f"sharing: small_job_alone_s ({small} frames, idle farm, median; first frame after {_seconds(wait)} s)",
        _seconds(data["small_job_alone_s"]),
    )
    for name in SCENARIOS:
        skipped = data["scenarios"].get(name, {}).get("skipped")
        if skipped:
            rows.add(f"sharing: {name}", f"skipped: {skipped}")
            continue
        wait = data[f"small_first_frame_wait_{name}_s"]
        rows.add(
            f"sharing: small_job_{name}_s ({behind}; first frame after {_seconds(wait)} s)",
            _seconds(data[f"small_job_{name}_s"]),
        )
    targets: dict[str, tuple[str, Callable[[float], bool | None]]] = {
        "fair": (f"≤ {FAIR_TARGET:g}", lambda value: value <= FAIR_TARGET),
        "urgent": ("", lambda value: None),
        "fifo": (f"≥ {FIFO_TARGET:g}", lambda value: value >= FIFO_TARGET),
    }
    for name, (target, met) in targets.items():
        value = data[f"{name}_ratio"]
        if value is not None:
            rows.add(
                f"sharing: {name}_ratio (÷ alone in the same stack)",
                f"{value:.2f}",
                target,
                met(value),
                check=(SHARED_NOT_FASTER, value),
            )


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


# ---- one scenario (child process) --------------------------------------------------------------------------


def scenario_child(name: str, scene: Path, result: Path, big_frames: int, delay_s: float) -> None:
    """Start the stack at 2 workers and warm them; time the small job alone, then behind the big job; write it."""
    from backend.aws.s3 import S3Store
    from backend.aws.sqs import SqsQueue
    from backend.errors import ConflictError
    from backend.render.store import DynamoJobs
    from bench.pipeline import wait_until_idle
    from entry.wiring import Services
    from local.embedded.stack import use_local_aws
    from local.embedded.supervisor import Supervisor

    supervisor = Supervisor(workers=WORKERS, out=sys.stdout)
    info = supervisor.start()
    try:
        use_local_aws(info.endpoint)
        settings = info.settings()
        store = S3Store()
        store.upload(scene, settings.scenes_bucket, SCENE_KEY)
        jobs = DynamoJobs(settings.table_name)
        services = Services(settings, store=store, jobs=jobs, queue=SqsQueue(settings.render_queue_url))
        wait_until_idle([child.pid for key, child in supervisor.children.items() if key.startswith("render")])
        _until_over(jobs, _submit(services, f"1-{WARM_FRAMES}"))
        load = os.getloadavg()[0]
        alone = [_small(jobs, _submit(services, f"1-{SMALL_FRAMES}")) for _ in range(ALONE_RUNS)]
        started = time.monotonic()
        big_id = _submit(services, f"1-{big_frames}")
        time.sleep(max(0.0, started + delay_s - time.monotonic()))
        big_before = jobs.get(big_id).done
        shared = _small(jobs, _submit(services, f"1-{SMALL_FRAMES}", urgent=name == "urgent"))
        try:
            big_after = services.lifecycle.cancel(big_id).done
        except ConflictError:  # FIFO: the big job may end just before the small one
            big_after = jobs.get(big_id).done
    finally:
        supervisor.stop()
    measured = {
        "scenario": name,
        "alone_runs": alone,
        "alone_s": median([run["completion_s"] for run in alone]),
        "small_job_id": shared["job_id"],
        "small_first_frame_wait_s": shared["first_frame_wait_s"],
        "small_completion_s": shared["completion_s"],
        "big_job_id": big_id,
        "big_frames_done_when_small_submitted": big_before,
        "big_frames_done_when_small_finished": big_after,
        "load_average_1m": round(load, 2),
    }
    result.write_text(json.dumps(measured))


def _small(jobs: Any, job_id: str) -> dict[str, Any]:
    """The small job's times once it is over, from its record: submitted, first task taken, last frame recorded."""
    job = _until_over(jobs, job_id)
    if job.started_at is None or job.finished_at is None or job.done != SMALL_FRAMES:
        raise RuntimeError(f"the small job {job_id} ended {job.status} with {job.done} frames: see the log")
    frames = jobs.frames(job_id)
    return {
        "job_id": job_id,
        "first_frame_wait_s": round(job.started_at - job.created_at, 2),
        "completion_s": round(job.finished_at - job.created_at, 2),
        "render_s_per_frame": round(sum(record.seconds for record in frames) / max(len(frames), 1), 4),
    }


def _submit(services: Any, frames: str, urgent: bool = False) -> str:
    """Submit a Workbench render of the scene, in the words `studiobot render` takes; return the job id."""
    from backend.render.grammar import parse_render

    words = [SCENE_KEY, frames, "--res", RESOLUTION, "--engine", ENGINE] + (
        ["--priority", "urgent"] if urgent else []
    )
    job = services.submissions.submit(parse_render(words), requested_by="bench").job
    if job is None:
        raise RuntimeError("the benchmark's request was a dry run")
    return str(job.job_id)


def _until_over(jobs: Any, job_id: str) -> Any:
    """The job once it is over (done, failed or cancelled), read every 0.2 s."""
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while time.monotonic() < deadline:
        job = jobs.get(job_id)
        if job.status.is_final:
            return job
        time.sleep(0.2)
    raise RuntimeError(f"job {job_id} did not end in {JOB_TIMEOUT_S:.0f} s")


def main() -> None:
    """`python -m bench.sharing fair|urgent|fifo --scene S --result R`: one scenario, written as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.sharing")
    parser.add_argument("scenario", choices=SCENARIOS)
    parser.add_argument("--scene", type=Path, required=True)
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--big-frames", type=int, default=BIG_FRAMES)
    parser.add_argument("--delay", type=float, default=DELAY_S)
    args = parser.parse_args()
    scenario_child(args.scenario, args.scene, args.result, args.big_frames, args.delay)


if __name__ == "__main__":
    main()
