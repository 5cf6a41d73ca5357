"""One telling of a job's facts: the card, the thread's reply, `render status`, the terminal and the stack log say
the same lines (the device and a GPU job's fall back, tiles re-planned, missing files allowed)."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.progress import Progress

from backend.events import JobCompleted, JobEstimated
from backend.render.records import Job, JobStatus
from backend.render.tasks import RenderSettings
from bot.messages import message_text, render, render_completion
from bot.messages.job_facts import facts_lines
from bot.messages.text import plain

FALLBACK = "⚠️ Asked for a GPU (`--on gpu`), rendered on the CPU (no GPU device found on this node)"
REPLANNED = "🧩 Re-planned as 4×3 tiles: frame 1 would take about 40 min whole"
MISSING = "⚠️ Rendered without 2 missing files (`--allow-missing`)"


def _job(**changes: Any) -> Job:
    values: dict[str, Any] = {
        "job_id": "r1a2b3c4d5",
        "status": JobStatus.DONE,
        "scene_bucket": "scenes",
        "scene_key": "scenes/shot010/shot.blend",
        "scene_etag": "e",
        "frames_spec": "1-3",
        "total": 3,
        "task_count": 3,
        "settings": RenderSettings(tiles=(4, 3), render_class="gpu"),
        "output_bucket": "outputs",
        "output_prefix": "outputs/r1a2b3c4d5/",
        "requested_by": "U0ARTIST",
        "channel": "C0RENDERS",
        "done": 3,
        "created_at": 1_800_000_000.0,
        "finished_at": 1_800_000_600.0,
        "device": "CPU (no GPU device found on this node)",
        "replanned": "frame 1 would take about 40 min whole",
        "missing_allowed": 2,
    }
    values.update(changes)
    return Job(**values)


def test_the_card_the_reply_and_status_tell_the_same_facts() -> None:
    job = _job()
    facts = facts_lines(job)
    assert facts == [REPLANNED, FALLBACK, MISSING]
    _, card = render.job_card(job, job.finished_at or 0.0)
    status_text, status = render.status_message(job, job.finished_at or 0.0)  # the terminal prints its text
    reply = render_completion.completion_reply(job, [], None, {})
    for fact in facts:
        assert fact in json.dumps(card, ensure_ascii=False) and fact in json.dumps(status, ensure_ascii=False)
        assert fact in reply and fact in status_text
    assert reply.startswith("⚠️") and "✅" not in reply  # frames with magenta holes are no plain success


def test_a_finished_notice_with_missing_files_allowed_wears_a_warning_not_a_tick() -> None:
    completed = JobCompleted(
        job_id="r1", status="done", scene_key="s/shot.blend", done=3, failed=0, total=3, missing_allowed=2
    )
    said = message_text(completed) or ""
    assert said.startswith("⚠️") and "✅" not in said and "2 missing files" in said


class _Jobs:
    def __init__(self, job: Job) -> None:
        self.job = job

    def get(self, job_id: str) -> Job:
        return self.job


class _Feed:
    """An events queue that redelivers what is not deleted, as SQS does once the visibility timeout passes."""

    def __init__(self, bodies: list[str]) -> None:
        self.bodies = list(bodies)
        self.deleted: set[str] = set()

    def receive_message(self, **_: Any) -> dict[str, Any]:
        waiting = [
            (str(index), body) for index, body in enumerate(self.bodies) if str(index) not in self.deleted
        ]
        if len(waiting) > 1:
            waiting = waiting[:1] * 2  # the first one again, as a redelivery
        return {"Messages": [{"Body": body, "ReceiptHandle": handle} for handle, body in waiting]}

    def delete_message(self, QueueUrl: str, ReceiptHandle: str) -> None:
        self.deleted.add(ReceiptHandle)


def test_the_terminal_tells_the_estimate_once_and_the_facts_as_they_come() -> None:
    from local.cli.render import _follow

    job = _job(status=JobStatus.RUNNING, done=1)
    estimated = JobEstimated(job_id=job.job_id, estimated_cost_usd=0.5, estimated_eta_s=60.0)
    completed = JobCompleted(
        job_id=job.job_id, status="done", scene_key=job.scene_key, done=3, failed=0, total=3
    )
    feed = _Feed([estimated.to_json(), completed.to_json()])
    console = Console(record=True, width=200)
    with Progress(console=console) as progress:
        bar = progress.add_task("Rendering", total=3)
        assert _follow(_Jobs(job), feed, "url", job.job_id, progress, bar) == completed  # type: ignore[arg-type]
    said = console.export_text()
    assert said.count("probe frames rendered") == 1
    for fact in facts_lines(job):
        assert said.count(plain(fact)) == 1
