"""The render Lambda's entry point as AWS calls it: an SQS event in, a real bpy frame in S3, the job done."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import entry.render as render_lambda
from backend.commands import split_words
from backend.events import JobCompleted
from backend.render.grammar import parse_render
from backend.render.records import JobStatus
from entry import wiring
from local.embedded.poller import LocalContext

from .conftest import Stack

pytestmark = pytest.mark.bpy
EVENT = Path(__file__).resolve().parents[1] / "events" / "sqs_render_task.json"


def test_the_lambda_handler_renders_an_sqs_task_into_s3(
    stack: Stack, sample_scene: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in stack.settings.to_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("STUDIOBOT_WORK_DIR", str(tmp_path))
    wiring.render_worker.cache_clear()
    stack.put_scene("turntable.blend", sample_scene.read_bytes())
    request = parse_render(split_words("turntable.blend 5 --res 64x36 --samples 1 --engine CYCLES"))
    job = stack.service.submit(request, requested_by="U1").job
    assert job is not None
    event = json.loads(EVENT.read_text())
    event["Records"][0]["body"] = stack.queued_bodies()[0]

    response = render_lambda.handler(event, LocalContext("render"))  # type: ignore[arg-type]
    wiring.render_worker.cache_clear()

    assert response == {"batchItemFailures": []}
    key = f"outputs/{job.job_id}/turntable_0005.png"
    picture = stack.s3.get_object(Bucket=stack.settings.outputs_bucket, Key=key)
    assert picture["ContentType"] == "image/png" and picture["Body"].read(8) == b"\x89PNG\r\n\x1a\n"
    assert stack.jobs.get(job.job_id).status is JobStatus.DONE
    assert [type(event) for event in stack.events()] == [JobCompleted]
