"""The task message and the events: round trips, versions, and unknown types that must not crash anyone."""

from __future__ import annotations

import json

import pytest

from backend.event_wire import MalformedEvent, UnknownEvent, parse_event
from backend.events import JobCompleted, JobProgress
from backend.render.tasks import RenderSettings, RenderTask
from bot.messages import duration, message_text
from bot.messages.render import progress_bar


def _task() -> RenderTask:
    return RenderTask(
        job_id="r123",
        task_index=0,
        scene_bucket="scenes",
        scene_key="scenes/shot010/shot.blend",
        scene_etag="abc",
        frames=(1, 2),
        settings=RenderSettings(resolution=(64, 36), samples=4, engine="CYCLES", file_format="JPEG"),
        output_bucket="outputs",
        output_prefix="outputs/r123/",
    )


def test_a_task_survives_the_queue_unchanged() -> None:
    task = _task()
    assert RenderTask.from_json(task.to_json()) == task


def test_output_keys_follow_blenders_four_digit_convention() -> None:
    assert _task().output_key(7) == "outputs/r123/shot_0007.jpg"


def test_a_task_of_another_version_is_refused() -> None:
    body = json.loads(_task().to_json())
    body["version"] = 2
    with pytest.raises(ValueError, match="unsupported task version"):
        RenderTask.from_json(json.dumps(body))


def test_events_round_trip_with_type_and_version() -> None:
    event = JobCompleted(job_id="r1", status="done", scene_key="scenes/a.blend", done=3, failed=0, total=3)
    wire = json.loads(event.to_json())
    assert wire["type"] == "JobCompleted" and wire["version"] == 1
    assert parse_event(event.to_json()) == event


@pytest.mark.parametrize(
    "body",
    [
        '{"type": "SomethingNew", "version": 1}',
        '{"type": "JobCompleted", "version": 9}',
        '{"type": "JobProgress"}',
        "[1, 2]",
        '{"no": "type"}',
        "not JSON {",
        '{"type": "JobProgress", "version": 1, "job_id": 7, "scene_key": "k", "done": 1, "failed": 0, "total": 1}',
    ],
)
def test_unknown_or_broken_events_parse_without_crashing(body: str) -> None:
    event = parse_event(body)
    assert isinstance(event, UnknownEvent | MalformedEvent)
    assert message_text(event) is None


def test_messages_read_like_a_channel_post() -> None:
    assert progress_bar(120, 240, width=8) == "▰▰▰▰▱▱▱▱ 120/240"
    assert progress_bar(1, 24) == "▰▱▱▱▱▱▱▱▱▱ 1/24" and progress_bar(23, 24) == "▰▰▰▰▰▰▰▰▰▱ 23/24"
    assert duration(42) == "42 s" and duration(185) == "3 min 05 s" and duration(7620) == "2 h 07 min"
    done = JobCompleted(
        job_id="r1",
        status="done",
        scene_key="scenes/a.blend",
        done=24,
        failed=0,
        total=24,
        output_bucket="out",
        output_prefix="outputs/r1/",
        created_at=100.0,
        finished_at=131.0,
        requested_by="U123",
    )
    assert message_text(done) == (
        "✅ Render `r1` for <@U123> finished: all 24 frames of `scenes/a.blend` in 31 s. Outputs: s3://out/outputs/r1/"
    )
    failed = JobCompleted(
        job_id="r2",
        status="done_with_failures",
        scene_key="scenes/a.blend",
        done=21,
        failed=3,
        total=24,
        failed_frames=[7, 8, 9],
        created_at=0.0,
        finished_at=0.0,
    )
    text = message_text(failed) or ""
    assert "3 failed frames (7-9)" in text and "`/render retry r2`" in text
    progress = JobProgress(job_id="r3", scene_key="scenes/a.blend", done=5, failed=1, total=12)
    assert message_text(progress) == "⏳ Render `r3` (scenes/a.blend): ▰▰▰▰▰▱▱▱▱▱ 6/12, 1 failed"


def test_the_keepalive_report_reads_like_a_channel_post() -> None:
    from backend.events import KeepAliveReport

    because = {"a": "`anna` has been connected since 07:40 UTC (active 3 min ago)"}
    report = KeepAliveReport(started=["a", "b"], stopped=["b"], left_running=["a"], left_because=because)
    assert message_text(report) == (
        "♻️ Keep-alive: started `a`, `b`; stopped again `b`; left running: `a` (`anna` has been connected since "
        "07:40 UTC (active 3 min ago))."
    )
    assert parse_event(report.to_json()) == report
    failed = KeepAliveReport(error="States.Timeout: EC2 slow")
    assert (
        message_text(failed)
        == "♻️ Keep-alive: started none; stopped again none. ⚠️ A step failed: States.Timeout: EC2 slow."
    )
