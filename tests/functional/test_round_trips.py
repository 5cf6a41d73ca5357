"""Round trips of the flows bench.walks counts, kept from growing back: a frame through the render worker, the last
frame recorded to its job's end published, and the completion notice, each read the job no more often than it must
(DynamoDB on moto)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backend.commands import split_words
from backend.events import JobCompleted
from backend.render.grammar import parse_render
from backend.render.tasks import RenderTask
from blender_image.scene_cache import SceneCache
from blender_image.worker import RenderWorker
from testing.renderer import PillowRenderer
from testing.slack import FakeSlack

from .conftest import Stack
from .test_notifier import _setup


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def _count(*clients: Any) -> Counter[str]:
    """DynamoDB operations these clients send from now on, by name."""
    sent: Counter[str] = Counter()

    def note(model: Any, **_: Any) -> None:
        sent[model.name] += 1

    for client in clients:
        client.meta.events.register("before-call.dynamodb", note)
    return sent


def test_a_frame_of_a_running_job_reads_its_task_once_and_records_without_reading_back(
    stack: Stack, tmp_path: Path
) -> None:
    stack.put_scene()
    request = parse_render(split_words("shot.blend 1-3 --res 32x18"))
    job = stack.service.submit(request, requested_by="U1", channel="C1").job
    assert job is not None
    worker = RenderWorker(
        jobs=stack.jobs,
        reporter=stack.reporter,
        scenes=SceneCache(stack.store, tmp_path / "scenes"),
        renderer=PillowRenderer(),
        uploader=stack.store,
        work_dir=tmp_path,
    )
    first, second, third = [RenderTask.from_json(body) for body in stack.queued_bodies()]
    started = _count(stack.jobs.client)
    worker.run(first)  # the job starts (the write returns the job, the record's condition proves it after)
    assert started["GetItem"] == 0 and started["TransactWriteItems"] == 1
    sent = _count(stack.jobs.client)
    worker.run(second)
    # the task's job and its frames in one read; the record's transaction, whose condition proves the job's
    # counters (nothing else counted since that read): the job after it is known without reading it again
    assert sent == Counter({"BatchGetItem": 1, "TransactWriteItems": 1}) or sent == Counter(
        {"BatchGetItem": 1, "TransactWriteItems": 1, "UpdateItem": 1}  # the progress throttle's claim
    )
    worker.run(third)
    assert stack.jobs.get(job.job_id).done == 3


def test_the_last_frame_ends_its_job_with_one_read_and_no_query(stack: Stack, slack: FakeSlack) -> None:
    _, services, _, job_id = _setup(stack, slack, "1-2")
    services.reporter.frame_done(job_id, 1, 1.0, "out/1.png", 1.0)
    sent = _count(stack.jobs.client)
    services.reporter.frame_done(job_id, 2, 1.0, "out/2.png", 1.0)
    sent = Counter(sent)  # what the record sent, before this test reads the job itself
    assert stack.jobs.get(job_id).status.is_final
    assert [type(event) for event in stack.events()].count(JobCompleted) == 1
    # the record's transaction (the job after it known from its condition); FINISH returns the job it wrote; the
    # outbox publishes from it
    assert sent["GetItem"] == 0 and sent["Query"] == 0 and sent["TransactWriteItems"] == 1
    assert sent["UpdateItem"] == 2  # FINISH, and the one fact published with the job leaving the outbox index


def test_a_chunks_frames_record_one_after_another_without_reading_the_job(
    stack: Stack, slack: FakeSlack
) -> None:
    _, services, clock, job_id = _setup(stack, slack, "1-4")
    clock.now += 6  # the card was posted at t=0: the first frame's progress is due
    stack.jobs.get(job_id)  # the task's read of its job
    sent = _count(stack.jobs.client)
    for frame in (1, 2, 3):
        services.reporter.frame_done(job_id, frame, 1.0, f"out/{frame}.png", 1.0)
    # each record's transaction proves the job it knew; the progress claim returns the job it wrote, so the next
    # frames know the card was told just now and neither claim again nor read
    assert sent == Counter({"TransactWriteItems": 3, "UpdateItem": 1})


def test_one_completion_notice_reads_only_the_card(stack: Stack, slack: FakeSlack) -> None:
    notifier, _, clock, job_id = _setup(stack, slack, "1-2")
    clock.now += 6
    stack.render_frames(job_id, [1, 2])
    completed = [event for event in stack.events() if isinstance(event, JobCompleted)]
    for event in stack.events():
        if not isinstance(event, JobCompleted):
            notifier.handle(event)
    sent = _count(stack.jobs.client, notifier.cards.client)  # type: ignore[attr-defined]
    notifier.handle(completed[0])
    assert len(slack.calls_to("files.completeUploadExternal")) == 1
    # the claim returns the job; no frame failed, so no frames are read; the card is read once and marked
    assert sent == Counter({"UpdateItem": 2, "GetItem": 1})
    notifier.handle(completed[0])  # SNS delivers it again: nothing is said twice
    assert len(slack.calls_to("files.completeUploadExternal")) == 1
