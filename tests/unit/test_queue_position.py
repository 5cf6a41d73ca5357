"""Where a waiting job stands: jobs of a higher priority first, those of its own priority taking turns with it (a
fair queue, not first in first out), held jobs not at all; the start at the pace the job records show."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from backend.render.queue_position import (
    QueuePosition,
    frames_waiting,
    is_waiting,
    pace,
    position,
    position_of,
)
from backend.render.records import Job, JobStatus, Priority
from backend.render.tasks import RenderSettings
from bot.messages.queue import queue_line
from testing.jobs import InMemoryJobs

NOW = 1_800_000_600.0


def _job(job_id: str, **changes: Any) -> Job:
    values: dict[str, Any] = {
        "job_id": job_id,
        "status": JobStatus.QUEUED,
        "scene_bucket": "scenes",
        "scene_key": "scenes/shot010/shot.blend",
        "scene_etag": "e",
        "frames_spec": "1-10",
        "total": 10,
        "task_count": 10,
        "settings": RenderSettings(),
        "output_bucket": "outputs",
        "output_prefix": f"outputs/{job_id}/",
        "created_at": NOW - 60,
    }
    return Job(**(values | changes))


def _rendering(job_id: str, done: int, total: int, since: float, **changes: Any) -> Job:
    """A job whose frames started `since` and of which `done` are in."""
    values: dict[str, Any] = {"total": total, "task_count": total, "done": done, "created_at": since - 1}
    return _job(job_id, status=JobStatus.RUNNING, started_at=since, **(values | changes))


SMALL = _job("rsmall", created_at=NOW - 10)


def test_a_job_of_the_same_priority_running_first_gets_one_task_before_the_waiting_one_not_its_backlog() -> (
    None
):
    # GIVEN a 2,000-frame job that finished 100 frames in the 50 s since it started (2 frames a second)
    big = _rendering("rbig", done=100, total=2000, since=NOW - 50)
    # WHEN the small job submitted after it asks where it stands
    where = position(SMALL, [big, SMALL], NOW)
    # THEN the big job is ahead, but takes turns: one frame of it before the small job's first, half a second
    assert where == QueuePosition(jobs_ahead=1, frames_ahead=1, starts_in_s=0.5, taking_turns=1)


def test_the_pace_is_the_frames_per_second_the_rendering_jobs_finish_from_their_records() -> None:
    jobs = [
        _rendering("ra", done=120, total=2000, since=NOW - 60),  # 2 a second
        _rendering("rb", done=30, total=40, since=NOW - 30),  # 1 a second
        _rendering("rc", done=50, total=60, since=NOW - 10, held_by="ULEAD"),  # held: takes nothing now
        _job("rd", status=JobStatus.DONE, done=10, started_at=NOW - 20),  # over
        _job("re"),  # nothing started: no rate yet
        # after its probes (3 frames): measured from when the rest was queued, the probes not counted
        _rendering(
            "rf", done=13, total=100, since=NOW - 100, probe_frames=(1, 50, 100), fanned_out_at=NOW - 20
        ),
    ]
    assert pace(jobs, NOW) == 2 + 1 + 0.5


def test_no_pace_yet_says_it_starts_when_a_worker_frees_up() -> None:
    # GIVEN a job just started, no frame of it in yet
    big = _rendering("rbig", done=0, total=2000, since=NOW - 5, created_at=NOW - 30)
    where = position(SMALL, [big], NOW)
    assert where == QueuePosition(1, 1, None, 1)
    assert (
        queue_line(where)
        == "⏳ 1 job ahead (1 frame: jobs of one priority take turns) — starts when a worker frees up"
    )


def test_held_jobs_are_not_ahead_of_anyone_and_a_held_job_does_not_wait_in_line() -> None:
    held = _rendering("rheld", done=10, total=500, since=NOW - 10, held_by="ULEAD", priority=Priority.URGENT)
    assert frames_waiting(held) == 0
    assert position(SMALL, [held], NOW) is None
    assert not is_waiting(replace(SMALL, held_by="ULEAD"))


def test_every_waiting_frame_of_a_higher_priority_goes_first_then_the_turns_of_its_own_priority() -> None:
    # GIVEN an urgent job submitted after ours, a normal one before it, and a low one before it
    urgent = _rendering(
        "rurgent", done=40, total=1000, since=NOW - 20, priority=Priority.URGENT, created_at=NOW
    )
    normal = _rendering("rnormal", done=0, total=900, since=NOW - 1, task_count=90, created_at=NOW - 100)
    low = _rendering("rlow", done=10, total=300, since=NOW - 100, priority=Priority.LOW)
    later = _job("rlater", created_at=NOW - 1)  # same priority, submitted after ours: not ahead
    where = position(SMALL, [low, later, normal, urgent], NOW)  # `normal`: 10 frames a task
    # THEN the urgent job's 960 waiting frames go first, then one task (10 frames) of the earlier normal job
    assert where is not None and (where.jobs_ahead, where.frames_ahead, where.taking_turns) == (2, 970, 1)
    assert where.starts_in_s == 970 / (2 + 0.1)  # the low job's frames count in the pace, not ahead
    # AND an urgent job waits for no normal job
    assert position(replace(SMALL, priority=Priority.URGENT), [normal, low], NOW) is None


def test_a_job_stops_waiting_once_its_first_frame_starts_or_is_in() -> None:
    assert is_waiting(SMALL)
    assert not is_waiting(replace(SMALL, status=JobStatus.RUNNING, started_at=NOW))
    probed = replace(SMALL, status=JobStatus.RUNNING, probe_frames=(1, 5, 10), done=3)
    assert is_waiting(probed) and not is_waiting(replace(probed, done=4))
    probing = replace(SMALL, status=JobStatus.PROBING, probe_frames=(1, 5, 10))
    # its probes wait behind others too
    assert is_waiting(probing) and not is_waiting(replace(probing, done=1))
    assert not is_waiting(replace(SMALL, status=JobStatus.AWAITING_APPROVAL))


def test_the_position_is_read_from_the_class_s_active_jobs_only_while_the_job_waits() -> None:
    jobs = InMemoryJobs(clock=lambda: NOW)
    big, _ = jobs.create(_job("rbig", total=2000, task_count=2000, created_at=NOW - 100))
    gpu, _ = jobs.create(_job("rgpu", settings=RenderSettings(render_class="gpu"), created_at=NOW - 100))
    small, _ = jobs.create(SMALL)
    assert [job.job_id for job in jobs.active_jobs("cpu")] == ["rbig", "rsmall"]
    where = position_of(small, jobs, NOW)
    assert where == QueuePosition(1, 1, None, 1)  # the gpu job is another class's: not ahead
    assert jobs.cancel(big.job_id) and position_of(small, jobs, NOW) is None
    assert [job.job_id for job in jobs.active_jobs("cpu")] == ["rsmall"] and gpu


def test_the_line_counts_jobs_and_frames_and_rounds_the_wait() -> None:
    assert (
        queue_line(QueuePosition(2, 1940, 355.0))
        == "⏳ 2 jobs ahead (1,940 frames) — starts in ~6 min at the current pace"
    )
    assert queue_line(QueuePosition(1, 1, 0.4, 1)).endswith("— starts in ~1 s at the current pace")
    assert "~2 h 05 min" in queue_line(QueuePosition(3, 9000, 7500.0, 1))
    assert queue_line(None) == ""
