"""`studiobot render` says what is ahead of the job once, as it starts watching a job that waits in the queue."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any

import pytest

from backend.events import JobCompleted
from backend.render.records import Job, JobStatus
from backend.render.tasks import RenderSettings
from local.cli.render import _watch
from testing.jobs import InMemoryJobs


class _Feed:
    """The CLI's event feed: nothing for a few polls, then the job's end."""

    def __init__(self, completed: JobCompleted, empty_polls: int) -> None:
        self.completed = completed
        self.empty_polls = empty_polls

    def receive_message(self, **_: Any) -> dict[str, Any]:
        self.empty_polls -= 1
        if self.empty_polls >= 0:
            return {}
        return {"Messages": [{"ReceiptHandle": "h", "Body": json.dumps(self.completed.to_dict())}]}

    def delete_message(self, **_: Any) -> None:
        return None


def _job(job_id: str, **changes: Any) -> Job:
    values: dict[str, Any] = {
        "job_id": job_id,
        "status": JobStatus.QUEUED,
        "scene_bucket": "scenes",
        "scene_key": "scenes/shot.blend",
        "scene_etag": "e",
        "frames_spec": "1-4",
        "total": 4,
        "task_count": 4,
        "settings": RenderSettings(),
        "output_bucket": "outputs",
        "output_prefix": f"outputs/{job_id}/",
    }
    return Job(**(values | changes))


def test_the_watch_says_once_what_is_ahead_of_a_waiting_job(capsys: pytest.CaptureFixture[str]) -> None:
    now = time.time()
    jobs = InMemoryJobs(clock=lambda: now)
    big = _job("rbig", total=2000, task_count=2000, created_at=now - 60)
    jobs.create(replace(big, status=JobStatus.RUNNING, started_at=now - 50, done=100))
    jobs.create(_job("rsmall", created_at=now))
    completed = JobCompleted(
        job_id="rsmall", status="done", scene_key="scenes/shot.blend", done=4, failed=0, total=4
    )
    assert _watch(jobs, _Feed(completed, empty_polls=2), "feed", "rsmall", 4) == completed
    said = capsys.readouterr().out
    assert said.count("⏳ 1 job ahead (1 frame: jobs of one priority take turns) — starts in ~1 s") == 1
