"""Submitting renders: validation first, nothing enqueued for a rejected job, batches of ten, one job per token."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from backend.aws.sqs import SqsQueue
from backend.commands import split_words
from backend.config import Costs
from backend.errors import ValidationError
from backend.render.grammar import parse_render
from backend.render.records import JobStatus
from backend.render.tasks import RenderTask
from bot.messages.render_plan import plan_text
from entry.wiring import Services

from .conftest import Stack


def _request(text: str):
    return parse_render(split_words(text))


def test_a_submitted_job_is_queued_with_one_task_per_frame(stack: Stack) -> None:
    key = stack.put_scene("shot010/shot.blend")
    submission = stack.service.submit(
        _request("shot010/shot.blend 1-25 --res 64x36"), requested_by="U1", channel="C1"
    )
    job = submission.job
    assert submission.created and job is not None
    assert (job.status, job.total, job.task_count, job.scene_key) == (JobStatus.QUEUED, 25, 25, key)
    assert job.enqueued
    tasks = [RenderTask.from_json(body) for body in stack.queued_bodies()]
    assert sorted(frame for task in tasks for frame in task.frames) == list(range(1, 26))
    assert {task.scene_etag for task in tasks} == {job.scene_etag}
    assert stack.queue.calls == 3  # 10 + 10 + 5


def test_a_10000_frame_job_without_probes_takes_1000_batch_calls(stack: Stack) -> None:
    stack.put_scene()
    settings = replace(stack.settings, costs=Costs(probe_over_frames=10_000))
    service = Services(settings, store=stack.store, jobs=stack.jobs, queue=stack.queue).submissions
    service.submit(_request("shot.blend 1-10000"), requested_by="U1")
    assert stack.queue.calls == 1000


def test_chunks_put_several_frames_in_one_task(stack: Stack) -> None:
    stack.put_scene()
    submission = stack.service.submit(_request("shot.blend 1-10 --chunk 4"), requested_by="U1")
    assert submission.job is not None and submission.job.task_count == 3
    frames = sorted(RenderTask.from_json(body).frames for body in stack.queued_bodies())
    assert frames == [(1, 2, 3, 4), (5, 6, 7, 8), (9, 10)]


def test_the_same_client_token_returns_the_same_job_and_enqueues_nothing(stack: Stack) -> None:
    stack.put_scene()
    first = stack.service.submit(
        _request("shot.blend 1-12"), requested_by="U1", client_token="slack:trigger-1"
    )
    calls = stack.queue.calls
    again = stack.service.submit(
        _request("shot.blend 1-12"), requested_by="U1", client_token="slack:trigger-1"
    )
    assert again.job is not None and first.job is not None
    assert again.job.job_id == first.job.job_id and not again.created
    assert stack.queue.calls == calls
    assert len(stack.queued_bodies()) == 12


def test_a_dry_run_answers_with_the_plan_and_creates_nothing(stack: Stack) -> None:
    stack.put_scene()
    submission = stack.service.submit(_request("shot.blend 1-10x2 --samples 8 --dry-run"), requested_by="U1")
    assert submission.job is None
    assert submission.plan.frames == [1, 3, 5, 7, 9]
    assert "Frames 1-10x2 (5 frames) in 5 tasks" in plan_text(submission.plan)
    assert "8 samples" in plan_text(submission.plan)
    assert stack.queued_bodies() == []
    items = stack.jobs.client.scan(TableName=stack.settings.table_name)["Items"]
    assert items == []


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "missing.blend 1-10",
            "There is no scene `scenes/missing.blend` in the bucket `studiobot-local-scenes-",
        ),
        ("shot.mb 1-10", "is not a Blender scene"),
        ("/etc/shot.blend 1-10", "must be a path inside the scenes bucket"),
        ("../outputs/shot.blend 1-10", "may not contain `..`"),
        ("shot.blend 10-1x0", "step of 0"),
        ("shot.blend 1-20000", "over the limit of 10,000"),
        ("shot.blend 1-10 --assets textures/", "There are no support files under `scenes/textures/`"),
        ("shot.blend 1-10 --assets ../secrets", "may not contain `..`"),
    ],
)
def test_a_rejected_job_enqueues_nothing_and_says_why(stack: Stack, text: str, said: str) -> None:
    stack.put_scene()
    with pytest.raises(ValidationError) as raised:
        stack.service.submit(_request(text), requested_by="U1")
    assert said in str(raised.value)
    assert stack.queued_bodies() == []
    assert stack.jobs.client.scan(TableName=stack.settings.table_name)["Items"] == []


def test_support_files_travel_with_the_task(stack: Stack) -> None:
    stack.put_scene("shot010/shot.blend")
    stack.s3.put_object(Bucket=stack.settings.scenes_bucket, Key="scenes/shot010/tex/wood.png", Body=b"png")
    submission = stack.service.submit(
        _request("shot010/shot.blend 1 --assets shot010/tex"), requested_by="U1"
    )
    assert "Support files: 1 under `shot010/tex`" in plan_text(submission.plan)
    (body,) = stack.queued_bodies()
    assert RenderTask.from_json(body).assets_prefix == "scenes/shot010/tex/"


class FlakySqs:
    """A real SQS client that refuses some entries of the first batches, as SQS may under throttling."""

    def __init__(self, client: Any, refuse_first: int) -> None:
        self.client = client
        self.refuse_left = refuse_first
        self.entry_attempts: list[int] = []

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.entry_attempts.append(len(Entries))
        refused = Entries[: self.refuse_left]
        self.refuse_left -= len(refused)
        response = (
            self.client.send_message_batch(QueueUrl=QueueUrl, Entries=Entries[len(refused) :])
            if len(refused) < len(Entries)
            else {"Successful": []}
        )
        failed = [{"Id": e["Id"], "Code": "ThrottlingException", "SenderFault": False} for e in refused]
        return {**response, "Failed": failed + response.get("Failed", [])}


def test_entries_sqs_refuses_are_sent_again_and_none_twice(stack: Stack) -> None:
    stack.put_scene()
    flaky = FlakySqs(stack.sqs, refuse_first=3)
    queue = SqsQueue(stack.settings.render_queue_url, client=flaky, sleep=lambda _: None)
    service = Services(stack.settings, store=stack.store, jobs=stack.jobs, queue=queue).submissions
    service.submit(_request("shot.blend 1-12"), requested_by="U1")
    assert flaky.entry_attempts == [10, 3, 2]
    frames = sorted(json.loads(body)["frames"][0] for body in stack.queued_bodies())
    assert frames == list(range(1, 13))
