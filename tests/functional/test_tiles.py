"""Tiles on the moto stack: a frame rendered as separate tile tasks is stitched exactly once, however deliveries fall
(duplicates, two last tiles at once, a worker killed mid-tile or mid-stitch), and a failed tile fails its frame by
name. The stand-in renderer draws each tile as the window of the very picture it draws whole, so a misplaced or
lost tile shows in the stitched frame; Blender's own tiles are checked in test_blender.py and bench/tiles.py."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops

import blender_image.tiling
from backend.commands import split_words
from backend.events import FrameStopped, JobCompleted
from backend.render.dead_letters import fail_task
from backend.render.grammar import parse_render
from backend.render.records import FrameOutcome, JobStatus
from backend.render.store import DynamoJobs
from backend.render.store.roster import NodeRoster
from backend.render.tasks import RenderTask
from blender_image.scene_cache import SceneCache
from blender_image.tiling import StitchPending
from blender_image.worker import RenderWorker
from bot.messages.render import event_text, job_card
from entry.wiring import Services
from testing.renderer import PillowRenderer, frame_picture

from .conftest import Stack

SIZE = (40, 30)


class Killed(BaseException):
    """The process dies here (SQS delivers the task again after its visibility timeout)."""


def _submit(stack: Stack, text: str = "shot.blend 1-2 --res 40x30 --tiles 2x2"):
    stack.put_scene()
    submission = stack.service.submit(parse_render(split_words(text)), requested_by="U1", channel="C1")
    assert submission.job is not None
    return submission.job


def _worker(stack: Stack, folder: Path, renderer: Any, **given: Any) -> RenderWorker:
    return RenderWorker(
        jobs=given.pop("jobs", stack.jobs),
        reporter=given.pop("reporter", stack.reporter),
        scenes=SceneCache(stack.store, folder / "scenes"),
        renderer=renderer,
        uploader=given.pop("uploader", stack.store),
        work_dir=folder,
        **given,
    )


def _tasks(stack: Stack) -> list[RenderTask]:
    return [RenderTask.from_json(body) for body in stack.queued_bodies()]


def _keys(stack: Stack, prefix: str) -> list[str]:
    listing = stack.s3.list_objects_v2(Bucket=stack.settings.outputs_bucket, Prefix=prefix)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def _frame(stack: Stack, job_id: str, frame: int, folder: Path) -> Image.Image:
    path = folder / f"{frame}.png"
    stack.s3.download_file(stack.settings.outputs_bucket, f"outputs/{job_id}/shot_{frame:04d}.png", str(path))
    return Image.open(path).convert("RGB")


@pytest.fixture
def stitches(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every frame stitched, by where it was written (the real stitcher does the work)."""
    made: list[Path] = []
    real = blender_image.tiling.stitch

    def counting(cut: Any, tiles: Any, out: Path) -> Path:
        if not out.name.endswith(".proxy.png"):
            made.append(out)
        return real(cut, tiles, out)

    monkeypatch.setattr(blender_image.tiling, "stitch", counting)
    return made


def test_a_tiled_job_renders_each_tile_once_and_stitches_frames_pixel_for_pixel(
    stack: Stack, tmp_path: Path, stitches: list[Path]
) -> None:
    job = _submit(stack)
    tasks = _tasks(stack)
    assert [(task.frames, task.tile) for task in tasks] == [((f,), t) for f in (1, 2) for t in range(4)]
    renderer = PillowRenderer()
    worker = _worker(stack, tmp_path, renderer)
    for task in tasks[:2]:
        worker.run(task)
    midway = stack.jobs.get(job.job_id)
    assert midway.tile_counts == {1: 2} and midway.done == 0
    _, blocks = job_card(midway, time.time())
    assert "🧩 2×2 tiles a frame · frame 1: 2/4" in str(blocks)
    for task in tasks[2:] + tasks:  # and SQS delivers every tile again
        worker.run(task)
    done = stack.jobs.get(job.job_id)
    assert (done.status, done.done, done.failed, done.tile_counts) == (JobStatus.DONE, 2, 0, {})
    assert sorted(renderer.tiles) == [(f, t) for f in (1, 2) for t in range(4)]  # each tile rendered once
    assert len(stitches) == 2
    for frame in (1, 2):
        stitched = _frame(stack, job.job_id, frame, tmp_path)
        assert ImageChops.difference(stitched, frame_picture(frame, SIZE)).getbbox() is None
    assert _keys(stack, f"outputs/{job.job_id}/proxies/") != []
    assert _keys(stack, f"tiles/{job.job_id}/") == []  # the tiles leave once their frame is recorded
    (completed,) = [event for event in stack.events() if isinstance(event, JobCompleted)]
    assert completed.status == "done"
    records = stack.jobs.frames(job.job_id)
    assert all(record.billed_s > 0 for record in records)
    assert done.billed_s == pytest.approx(sum(record.billed_s for record in records), abs=0.01)


class Together(PillowRenderer):
    """Tiles that finish at the same moment on two workers."""

    def __init__(self, barrier: threading.Barrier) -> None:
        super().__init__()
        self.barrier = barrier

    def render(self, *args: Any, **kwargs: Any) -> Path:
        written = super().render(*args, **kwargs)
        self.barrier.wait(timeout=10)
        return written


def test_two_last_tiles_finishing_together_stitch_their_frame_once(
    stack: Stack, tmp_path: Path, stitches: list[Path]
) -> None:
    job = _submit(stack, "shot.blend 5 --res 40x30 --tiles 2x2")
    tasks = _tasks(stack)
    first = _worker(stack, tmp_path / "a", PillowRenderer())
    for task in tasks[:2]:
        first.run(task)
    barrier = threading.Barrier(2)
    workers = [_worker(stack, tmp_path / name, Together(barrier)) for name in ("b", "c")]
    pending: list[StitchPending] = []

    def run(worker: RenderWorker, task: RenderTask) -> None:
        try:
            worker.run(task)
        except StitchPending as held:  # the loser's task comes back later and finds the frame recorded
            pending.append(held)

    threads = [
        threading.Thread(target=run, args=(worker, task))
        for worker, task in zip(workers, tasks[2:], strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    done = stack.jobs.get(job.job_id)
    assert (done.status, done.done) == (JobStatus.DONE, 1) and len(stitches) == 1
    assert len(pending) <= 1  # a loser that saw every tile in is tried again later, not acknowledged
    if pending:
        assert workers[0].run(tasks[2]).skipped == [5]  # its redelivery: the frame is recorded
    assert (
        ImageChops.difference(_frame(stack, job.job_id, 5, tmp_path), frame_picture(5, SIZE)).getbbox()
        is None
    )
    assert len([event for event in stack.events() if isinstance(event, JobCompleted)]) == 1


class DiesOnce(PillowRenderer):
    """The process is killed while rendering one tile, the first time."""

    def __init__(self, tile: int) -> None:
        super().__init__()
        self.dies_on = tile

    def render(self, *args: Any, **kwargs: Any) -> Path:
        if kwargs.get("tile") == self.dies_on:
            self.dies_on = -1
            raise Killed
        return super().render(*args, **kwargs)


def test_a_worker_killed_mid_tile_or_mid_stitch_loses_nothing(
    stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stitches: list[Path]
) -> None:
    job = _submit(stack, "shot.blend 3 --res 40x30 --tiles 2x2")
    tasks = _tasks(stack)
    worker = _worker(stack, tmp_path, DiesOnce(tile=1))
    with pytest.raises(Killed):
        worker.run(tasks[1])
    assert stack.jobs.tiles(job.job_id, 3) == []  # nothing recorded for the tile that died
    for task in tasks:
        worker.run(task)  # tile 1 delivered again, rendered this time
    assert stack.jobs.get(job.job_id).status is JobStatus.DONE and len(stitches) == 1

    job = _submit(stack, "shot.blend 4 --res 40x30 --tiles 2x2")
    tasks = _tasks(stack)
    dying = _worker(stack, tmp_path / "dies", PillowRenderer())
    for task in tasks[:3]:
        dying.run(task)
    real = blender_image.tiling.stitch

    def killed(*args: Any) -> Path:
        raise Killed

    monkeypatch.setattr(blender_image.tiling, "stitch", killed)
    with pytest.raises(Killed):  # the last tile is recorded, then the process dies stitching the frame
        dying.run(tasks[3])
    monkeypatch.setattr(blender_image.tiling, "stitch", real)
    assert len(stack.jobs.tiles(job.job_id, 4)) == 4 and stack.jobs.get(job.job_id).done == 0
    # SQS delivers the last tile again after its visibility timeout (past the stitch's lease): no re-render
    later = DynamoJobs(stack.settings.table_name, clock=lambda: time.time() + 5400)
    services = Services(stack.settings, clock=lambda: time.time() + 5400, store=stack.store, jobs=later)
    renderer = PillowRenderer()
    again = _worker(stack, tmp_path / "again", renderer, jobs=later, reporter=services.reporter)
    again.run(tasks[3])
    done = stack.jobs.get(job.job_id)
    assert (done.status, done.done) == (JobStatus.DONE, 1) and renderer.tiles == []
    assert (
        ImageChops.difference(_frame(stack, job.job_id, 4, tmp_path), frame_picture(4, SIZE)).getbbox()
        is None
    )


class SlowTile(PillowRenderer):
    def render(self, *args: Any, **kwargs: Any) -> Path:
        if kwargs.get("tile") == 1:
            time.sleep(3.0)
        return super().render(*args, **kwargs)


def test_a_tile_past_the_time_limit_fails_its_frame_by_name_and_the_frame_is_not_retried(
    stack: Stack, tmp_path: Path
) -> None:
    job = _submit(stack, "shot.blend 1-2 --res 40x30 --tiles 2x2")
    tasks = _tasks(stack)
    exits: list[int] = []
    worker = _worker(stack, tmp_path, SlowTile(), limit_s=4.0, margin_s=3.0, exit=exits.append)
    worker.run(tasks[1], remaining_s=lambda: 4.0)
    assert exits  # recorded, then the process would exit
    (record,) = stack.jobs.frames(job.job_id)
    assert record.outcome is FrameOutcome.FAILED
    assert record.error.startswith(
        "frame 1, tile 2 of 4 (row 1, column 2), was stopped after 1 s of the 4 s a render may run (3 s are kept"
    )
    assert "with more tiles" in record.error
    (stopped,) = [event for event in stack.events() if isinstance(event, FrameStopped)]
    assert (stopped.frame, stopped.tile) == (1, "tile 2 of 4 (row 1, column 2)")
    said = event_text(stopped)
    assert "frame 1, tile 2 of 4 (row 1, column 2), was stopped after 1 s" in said and "more tiles" in said
    renderer = PillowRenderer()
    rest = _worker(stack, tmp_path / "rest", renderer)
    for task in tasks:
        rest.run(task)
    assert {frame for frame, _ in renderer.tiles} == {2}  # frame 1's other tiles are acknowledged unrendered
    done = stack.jobs.get(job.job_id)
    assert (done.status, done.done, done.failed, done.tile_counts) == (JobStatus.DONE_WITH_FAILURES, 1, 1, {})


def test_a_tile_that_fails_every_delivery_fails_its_frame_naming_the_tile(
    stack: Stack, tmp_path: Path
) -> None:
    job = _submit(stack, "shot.blend 1 --res 40x30 --tiles 2x2")
    tasks = _tasks(stack)
    stack.jobs.note_frame_error(job.job_id, 1, "RuntimeError: out of memory")
    assert fail_task(stack.reporter, tasks[2], stack.queue) == [1]
    (record,) = stack.jobs.frames(job.job_id)
    assert record.error == (
        "tile 3 of 4 (row 2, column 1) failed on every delivery; last error: RuntimeError: out of memory"
    )
    assert stack.jobs.get(job.job_id).status is JobStatus.DONE_WITH_FAILURES


def test_cancel_skips_a_tiled_jobs_tiles_and_retry_renders_the_failed_frames_as_tiles(
    stack: Stack, tmp_path: Path
) -> None:
    job = _submit(stack, "shot.blend 1-2 --res 40x30 --tiles 2x2")
    tasks = _tasks(stack)
    renderer = PillowRenderer(fail_frames={2})
    worker = _worker(stack, tmp_path, renderer)
    for task in tasks[:4]:
        worker.run(task)
    for task in tasks[4:]:
        fail_task(stack.reporter, task, stack.queue)
    finished = stack.jobs.get(job.job_id)
    assert (finished.status, finished.done, finished.failed) == (JobStatus.DONE_WITH_FAILURES, 1, 1)
    retry = stack.service.retry(finished, stack.jobs.failed_frames(job.job_id), "U1", "C1").job
    assert retry is not None and retry.settings.tiles == (2, 2)
    retried = _tasks(stack)
    assert [(task.frames, task.tile) for task in retried] == [((2,), t) for t in range(4)]
    stack.reporter.cancel(retry.job_id)
    fresh = PillowRenderer()
    for task in retried:
        assert _worker(stack, tmp_path / "after", fresh).run(task).cancelled
    assert fresh.tiles == []


class UploadFailsOnce:
    """The outputs bucket refusing the first frame's upload (a throttled or reset PUT), then taking every one."""

    def __init__(self, store: Any) -> None:
        self.store, self.failed = store, False

    def upload(self, path: Path, bucket: str, key: str, content_type: str | None = None) -> None:
        if key.startswith("outputs/") and not self.failed:
            self.failed = True
            raise ConnectionError("S3 reset the connection")
        self.store.upload(path, bucket, key, content_type)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)  # downloads and the rest, as the bucket does them


@pytest.mark.parametrize("render_class", ["cpu", "gpu"])
def test_a_stitch_that_could_not_deliver_its_frame_gives_its_claim_back_for_the_retry(
    stack: Stack, tmp_path: Path, stitches: list[Path], render_class: str
) -> None:
    """GIVEN the last tile of a frame is in and its stitch fails to upload the frame, WHEN SQS delivers the task
    again (the render function, or a node on the gpu class), THEN the retry stitches at once, not after the
    claim's lease: the failed stitch gave its claim back (`release_stitch`, a DynamoDB DeleteItem its role needs)."""
    if render_class == "gpu":
        NodeRoster(stack.settings.table_name).seen(
            "gpu", "gpu-node-1"
        )  # a node has joined: a gpu job is taken
    job = _submit(stack, f"shot.blend 5 --res 40x30 --tiles 2x2 --on {render_class}")
    queue = stack.settings.gpu_queue_url if render_class == "gpu" else None
    tasks = [RenderTask.from_json(body) for body in stack.queued_bodies(queue)]
    assert len(tasks) == 4 and {task.settings.render_class for task in tasks} == {render_class}
    worker = _worker(stack, tmp_path, PillowRenderer(), uploader=UploadFailsOnce(stack.store))
    for task in tasks[:3]:
        worker.run(task)
    with pytest.raises(ConnectionError):
        worker.run(tasks[3])
    worker.run(tasks[3])  # delivered again straight away: the claim is free, the frame is stitched now
    done = stack.jobs.get(job.job_id)
    assert (done.status, done.done, len(stitches)) == (JobStatus.DONE, 1, 2)
    assert (
        ImageChops.difference(_frame(stack, job.job_id, 5, tmp_path), frame_picture(5, SIZE)).getbbox()
        is None
    )
