"""A frame's delivery (proxy, uploads, record) runs behind the next frame's render, with the guarantees of before:
a task is acknowledged only once every frame of it is uploaded and recorded, and a failed delivery renders again."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from backend.commands import split_words
from backend.render.grammar import parse_render
from backend.render.records import JobStatus
from backend.render.tasks import RenderSettings, RenderTask
from blender_image.scene_cache import SceneCache
from blender_image.worker import RenderWorker
from local.embedded.poller import QueuePoller
from testing.renderer import PillowRenderer

from .conftest import Stack


class Watched(PillowRenderer):
    """Pillow's renders, saying when each frame's render began."""

    def __init__(self) -> None:
        super().__init__()
        self.began: dict[int, threading.Event] = {}

    def render(
        self,
        scene_path: Path,
        frame: int,
        settings: RenderSettings,
        out_stem: Path,
        allow_missing: bool = False,
        tile: int | None = None,
    ) -> Path:
        self.began.setdefault(frame, threading.Event()).set()
        return super().render(scene_path, frame, settings, out_stem, allow_missing, tile)


class Uploads:
    """The stack's S3 store, each frame's upload first calling `before(key)` (which may wait or fail)."""

    def __init__(self, store: Any, before: Any) -> None:
        self.store, self.before = store, before

    def upload(self, path: Path, bucket: str, key: str, content_type: str | None = None) -> None:
        self.before(key)
        self.store.upload(path, bucket, key, content_type)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def _job(stack: Stack, text: str) -> tuple[str, RenderTask]:
    stack.put_scene()
    job = stack.service.submit(parse_render(split_words(text)), requested_by="U1", channel="C1").job
    assert job is not None
    (body,) = stack.queued_bodies()
    return job.job_id, RenderTask.from_json(body)


def _worker(stack: Stack, tmp_path: Path, renderer: PillowRenderer, uploads: Uploads) -> RenderWorker:
    return RenderWorker(
        jobs=stack.jobs,
        reporter=stack.reporter,
        scenes=SceneCache(stack.store, tmp_path / "scenes"),
        renderer=renderer,
        uploader=uploads,  # type: ignore[arg-type]
        work_dir=tmp_path,
    )


def _recorded(stack: Stack, job_id: str) -> list[int]:
    return sorted(record.frame for record in stack.jobs.frames(job_id))


def test_a_frame_is_uploaded_while_the_next_renders_and_the_task_returns_with_all_recorded(
    stack: Stack, tmp_path: Path
) -> None:
    # GIVEN a chunk of three frames, and uploads that note whether the next frame's render had begun
    job_id, task = _job(stack, "shot.blend 1-3 --res 32x18 --chunk 3")
    renderer = Watched()
    overlapped: dict[int, bool] = {}

    def before(key: str) -> None:
        frame = int(key.rsplit("_", 1)[1][:4])
        if frame < 3 and "proxies" not in key:
            overlapped[frame] = renderer.began.setdefault(frame + 1, threading.Event()).wait(2.0)

    worker = _worker(stack, tmp_path, renderer, Uploads(stack.store, before))
    # WHEN the worker runs the task
    result = worker.run(task)
    # THEN frames 1 and 2 were uploaded while the frame after each rendered
    assert overlapped == {1: True, 2: True}
    # AND when it returned every frame was uploaded and recorded, the job done, each frame counted once
    assert result.rendered == [1, 2, 3]
    assert _recorded(stack, job_id) == [1, 2, 3]
    final = stack.jobs.get(job_id)
    assert (final.status, final.done) == (JobStatus.DONE, 3)


def test_a_delivery_that_fails_behind_fails_the_task_after_its_other_frames_and_renders_again_once(
    stack: Stack, tmp_path: Path
) -> None:
    # GIVEN a chunk of three frames whose frame 2 upload fails once
    job_id, task = _job(stack, "shot.blend 1-3 --res 32x18 --chunk 3")
    failed: list[str] = []

    def before(key: str) -> None:
        if key.endswith("shot_0002.png") and "proxies" not in key and not failed:
            failed.append(key)
            raise RuntimeError("S3 hung up")

    renderer = PillowRenderer()
    worker = _worker(stack, tmp_path, renderer, Uploads(stack.store, before))
    # WHEN the worker runs it: the task fails (SQS delivers it again), the other frames delivered first
    with pytest.raises(RuntimeError, match="S3 hung up"):
        worker.run(task)
    assert _recorded(stack, job_id) == [1, 3]
    # AND the delivery again renders only frame 2, and the job counts each frame once
    again = worker.run(task)
    assert (again.rendered, again.skipped) == ([2], [1, 3])
    assert renderer.rendered == [1, 2, 3, 2]
    final = stack.jobs.get(job_id)
    assert (final.status, final.done) == (JobStatus.DONE, 3)


def test_a_task_run_unsettled_returns_before_its_last_delivery_and_settle_waits_for_it(
    stack: Stack, tmp_path: Path
) -> None:
    # GIVEN a one-frame task whose upload waits to be let go
    job_id, task = _job(stack, "shot.blend 1 --res 32x18")
    go = threading.Event()
    worker = _worker(stack, tmp_path, PillowRenderer(), Uploads(stack.store, lambda key: go.wait(5)))
    # WHEN it runs without settling: it returns with the frame rendered, not yet recorded
    result = worker.run(task, settle=False)
    assert result.rendered == [1] and _recorded(stack, job_id) == []
    # THEN settling waits for the delivery
    go.set()
    result.settle()
    assert _recorded(stack, job_id) == [1]


def test_a_delivery_waits_for_the_next_render_unless_its_task_settles_in_the_handler(
    stack: Stack, tmp_path: Path
) -> None:
    # GIVEN two one-frame tasks and a worker whose deliveries wait up to 5 s for the next render to start
    stack.put_scene()
    job = stack.service.submit(parse_render(split_words("shot.blend 1-2 --res 32x18")), requested_by="U1").job
    assert job is not None
    first, second = (RenderTask.from_json(body) for body in stack.queued_bodies())
    worker = _worker(stack, tmp_path, PillowRenderer(), Uploads(stack.store, lambda key: None))
    worker.courier.hold_s = 5.0
    # WHEN the first runs unsettled (the local poller's way): its frame waits for the next render
    unsettled = worker.run(first, settle=False)
    time.sleep(0.3)
    assert _recorded(stack, job.job_id) == []
    # THEN the next task's render lets it go, and a task settled in its handler (Lambda's way) waits for nothing
    started = time.monotonic()
    worker.run(second)
    unsettled.settle()
    assert time.monotonic() - started < 3.0
    assert _recorded(stack, job.job_id) == [1, 2]


def _poller(stack: Stack, handler: Any) -> QueuePoller:
    return QueuePoller(
        stack.sqs,
        stack.settings.render_queue_url,
        handler,
        function_name="render",
        visibility_timeout_s=2,
        retry_delay_s=0,
        wait_s=0,
    )


def test_the_poller_deletes_a_task_only_once_its_deliveries_settled_and_takes_the_next_meanwhile(
    stack: Stack,
) -> None:
    # GIVEN three tasks, and a handler whose work on the first is still being delivered after it returned
    for body in ("first", "second", "third"):
        stack.sqs.send_message(QueueUrl=stack.settings.render_queue_url, MessageBody=body)
    poller = _poller(stack, None)
    released = threading.Event()
    seen: list[str] = []

    def settle_first() -> set[str]:
        released.wait(10)
        return set()

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        (record,) = event["Records"]
        seen.append(record["body"])
        if record["body"] == "first":
            return {"batchItemFailures": [], "settle": settle_first}
        if record["body"] == "third":
            poller.stop()
        return {"batchItemFailures": []}

    poller.handler = handler
    runner = threading.Thread(target=poller.run)
    runner.start()
    # WHEN the poller took the next tasks while the first still settles, for longer than its visibility timeout
    deadline = time.monotonic() + 10
    while "third" not in seen and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(2.5)
    # THEN the first was neither deleted nor shown to another worker meanwhile (its heartbeat went on)
    assert seen == ["first", "second", "third"]
    visible = stack.sqs.receive_message(QueueUrl=stack.settings.render_queue_url, WaitTimeSeconds=0)
    assert visible.get("Messages", []) == []
    # AND once settled it is deleted, and stopping waited for it
    released.set()
    runner.join(10)
    assert not runner.is_alive()
    assert stack.queued_bodies() == []


@pytest.mark.parametrize("settle", ["names it", "raises"])
def test_a_task_whose_delivery_failed_behind_comes_back(stack: Stack, settle: str) -> None:
    # GIVEN a task whose handler returned, its delivery failing after
    stack.sqs.send_message(QueueUrl=stack.settings.render_queue_url, MessageBody="task")

    def failed(message_id: str) -> set[str]:
        if settle == "raises":
            raise RuntimeError("S3 hung up")
        return {message_id}

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        (record,) = event["Records"]
        return {"batchItemFailures": [], "settle": lambda: failed(record["messageId"])}

    # WHEN the poller handles it
    assert _poller(stack, handler).poll_once() == 1
    # THEN it is not deleted: SQS delivers it again
    assert stack.queued_bodies() == ["task"]
