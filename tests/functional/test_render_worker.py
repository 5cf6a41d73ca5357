"""The render worker and the job's life: frames counted once, one completion, cancels honoured, poison ends in DLQ."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from backend.commands import split_words
from backend.errors import NotFoundError
from backend.events import FrameStopped, JobCompleted, JobProgress
from backend.render.dead_letters import fail_task
from backend.render.grammar import parse_render, parse_retry
from backend.render.records import FrameOutcome, FrameRecord, JobStatus
from backend.render.tasks import RenderTask
from backend.render.tiles import tile_count
from blender_image.scene_cache import SceneCache
from blender_image.watchdog import EXIT_STOPPED
from blender_image.worker import FramesFailed, RenderWorker
from local.embedded.poller import LocalContext, lambda_record
from testing.renderer import PillowRenderer

from .conftest import Stack


def _submit(stack: Stack, text: str = "shot.blend 1-4 --res 32x18"):
    stack.put_scene()
    submission = stack.service.submit(parse_render(split_words(text)), requested_by="U1", channel="C1")
    assert submission.job is not None
    return submission.job


def _worker(stack: Stack, tmp_path: Path, renderer: PillowRenderer) -> RenderWorker:
    return RenderWorker(
        jobs=stack.jobs,
        reporter=stack.reporter,
        scenes=SceneCache(stack.store, tmp_path / "scenes"),
        renderer=renderer,
        uploader=stack.store,
        work_dir=tmp_path,
    )


def _outputs(stack: Stack, job_id: str) -> list[str]:
    listing = stack.s3.list_objects_v2(Bucket=stack.settings.outputs_bucket, Prefix=f"outputs/{job_id}/")
    return sorted(item["Key"] for item in listing.get("Contents", []))


def _completions(stack: Stack) -> list[JobCompleted]:
    return [event for event in stack.events() if isinstance(event, JobCompleted)]


def test_every_frame_rendered_uploaded_and_the_job_done_once(stack: Stack, tmp_path: Path) -> None:
    job = _submit(stack)
    renderer = PillowRenderer()
    worker = _worker(stack, tmp_path, renderer)
    for body in stack.queued_bodies():
        worker.run(RenderTask.from_json(body))
    assert _outputs(stack, job.job_id) == [
        *(f"outputs/{job.job_id}/proxies/shot_{frame:04d}.png" for frame in (1, 2, 3, 4)),
        *(f"outputs/{job.job_id}/shot_{frame:04d}.png" for frame in (1, 2, 3, 4)),
    ]
    final = stack.jobs.get(job.job_id)
    assert (final.status, final.done, final.failed) == (JobStatus.DONE, 4, 0)
    (completed,) = _completions(stack)
    assert (completed.status, completed.done, completed.total, completed.channel) == ("done", 4, 4, "C1")


def test_the_scene_is_downloaded_once_per_process(stack: Stack, tmp_path: Path) -> None:
    _submit(stack)
    worker = _worker(stack, tmp_path, PillowRenderer())
    for body in stack.queued_bodies():
        worker.run(RenderTask.from_json(body))
    assert isinstance(worker.scenes, SceneCache) and worker.scenes.downloads == 1


def test_duplicate_delivery_counts_frame_once_and_does_not_render_again(stack: Stack, tmp_path: Path) -> None:
    job = _submit(stack, "shot.blend 1-2 --res 32x18")
    renderer = PillowRenderer()
    worker = _worker(stack, tmp_path, renderer)
    bodies = stack.queued_bodies()
    first = RenderTask.from_json(bodies[0])
    worker.run(first)
    worker.run(first)  # SQS delivered it again
    assert renderer.rendered == [first.frames[0]]
    assert stack.jobs.get(job.job_id).done == 1
    worker.run(RenderTask.from_json(bodies[1]))
    worker.run(first)  # and once more after the job ended
    final = stack.jobs.get(job.job_id)
    assert (final.status, final.done) == (JobStatus.DONE, 2)
    assert len(_completions(stack)) == 1


def test_concurrent_last_frames_publish_one_completion(stack: Stack) -> None:
    frames = 16
    job = _submit(stack, f"shot.blend 1-{frames}")
    barrier = threading.Barrier(frames)

    def finish(frame: int) -> None:
        barrier.wait()
        stack.reporter.frame_done(job.job_id, frame, 0.5, f"outputs/{job.job_id}/shot_{frame:04d}.png")

    threads = [threading.Thread(target=finish, args=(frame,)) for frame in range(1, frames + 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    final = stack.jobs.get(job.job_id)
    assert (final.status, final.done, final.remaining) == (JobStatus.DONE, frames, 0)
    assert len(_completions(stack)) == 1


def test_progress_is_throttled_per_job(stack: Stack) -> None:
    job = _submit(stack, "shot.blend 1-6")
    for frame in range(1, 6):
        stack.reporter.frame_done(job.job_id, frame, 0.1, "k")
    progress = [event for event in stack.events() if isinstance(event, JobProgress)]
    assert len(progress) == 1 and progress[0].done == 1  # the rest fell inside the 5 s interval


def test_a_cancelled_jobs_tasks_are_acknowledged_without_rendering(stack: Stack, tmp_path: Path) -> None:
    job = _submit(stack)
    bodies = stack.queued_bodies()
    renderer = PillowRenderer()
    worker = _worker(stack, tmp_path, renderer)
    worker.run(RenderTask.from_json(bodies[0]))
    cancelled = stack.reporter.cancel(job.job_id)
    assert cancelled.status is JobStatus.CANCELLED
    results = [worker.run(RenderTask.from_json(body)) for body in bodies[1:]]
    assert all(result.cancelled for result in results)
    assert renderer.rendered == [1]
    (completed,) = _completions(stack)
    assert (completed.status, completed.done, completed.total) == ("cancelled", 1, 4)


def test_cancelling_a_finished_job_says_so(stack: Stack, tmp_path: Path) -> None:
    job = _submit(stack, "shot.blend 1")
    _worker(stack, tmp_path, PillowRenderer()).run(RenderTask.from_json(stack.queued_bodies()[0]))
    with pytest.raises(Exception, match="already done: nothing to cancel"):
        stack.reporter.cancel(job.job_id)


def test_a_failing_frame_fails_only_its_record_in_the_batch(stack: Stack, tmp_path: Path) -> None:
    import entry.render as render_handler
    from entry import wiring

    _submit(stack, "shot.blend 1-3")
    worker = _worker(stack, tmp_path, PillowRenderer(fail_frames={2}))
    wiring.render_worker.cache_clear()
    original = wiring.render_worker
    wiring.render_worker = lambda: worker  # type: ignore[assignment]
    try:
        messages = stack.sqs.receive_message(
            QueueUrl=stack.settings.render_queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
        )["Messages"]
        event = {
            "Records": [
                lambda_record(message, "arn:aws:sqs:us-east-1:123456789012:render") for message in messages
            ]
        }
        response: dict[str, Any] = render_handler.handler(event, LocalContext("render"))
    finally:
        wiring.render_worker = original  # type: ignore[assignment]
    failed_ids = {item["itemIdentifier"] for item in response["batchItemFailures"]}
    failed_frames = {
        RenderTask.from_json(m["Body"]).frames[0] for m in messages if m["MessageId"] in failed_ids
    }
    assert failed_frames == {2}


def test_a_poison_task_ends_the_job_listing_the_frame_as_failed(stack: Stack, tmp_path: Path) -> None:
    job = _submit(stack, "shot.blend 1-3")
    worker = _worker(stack, tmp_path, PillowRenderer(fail_frames={2}))
    poison = None
    for body in stack.queued_bodies():
        task = RenderTask.from_json(body)
        try:
            worker.run(task)
        except RuntimeError:
            poison = task
    assert poison is not None
    assert stack.jobs.get(job.job_id).status is JobStatus.RUNNING  # frame 2 is not accounted for yet
    assert fail_task(stack.reporter, poison) == [2]
    assert fail_task(stack.reporter, poison) == []  # the DLQ may deliver twice too
    final = stack.jobs.get(job.job_id)
    assert (final.status, final.done, final.failed) == (JobStatus.DONE_WITH_FAILURES, 2, 1)
    (record,) = [r for r in stack.jobs.frames(job.job_id) if r.outcome is FrameOutcome.FAILED]
    assert "missing texture wood.png" in record.error
    (completed,) = _completions(stack)
    assert (completed.status, completed.failed_frames) == ("done_with_failures", [2])


def test_a_changed_scene_fails_the_task_instead_of_rendering_the_wrong_version(
    stack: Stack, tmp_path: Path
) -> None:
    _submit(stack, "shot.blend 1")
    stack.put_scene(body=b"a newer version")
    worker = _worker(stack, tmp_path, PillowRenderer())
    with pytest.raises(Exception, match="changed after the job was submitted"):
        worker.run(RenderTask.from_json(stack.queued_bodies()[0]))


def test_support_files_land_beside_the_scene(stack: Stack, tmp_path: Path) -> None:
    stack.put_scene("shot010/shot.blend")
    stack.s3.put_object(Bucket=stack.settings.scenes_bucket, Key="scenes/shot010/tex/wood.png", Body=b"png")
    stack.service.submit(
        parse_render(split_words("shot010/shot.blend 1 --assets shot010/tex")), requested_by="U1"
    )
    cache = SceneCache(stack.store, tmp_path / "scenes")
    scene_path = cache.scene_path(RenderTask.from_json(stack.queued_bodies()[0]))
    assert (scene_path.parent / "tex" / "wood.png").read_bytes() == b"png"


def test_a_frame_of_an_unknown_job_is_refused_and_leaves_nothing_behind(stack: Stack) -> None:
    # The transaction's first write (the frame) must be rolled back when its second (the job) is refused.
    with pytest.raises(NotFoundError, match="no render job `r-gone`"):
        stack.jobs.record_frame("r-gone", FrameRecord(1, FrameOutcome.DONE, 0.1, "k"))
    assert stack.jobs.frames("r-gone") == []


def test_a_bad_frame_in_a_chunk_never_fails_its_neighbours(stack: Stack, tmp_path: Path) -> None:
    job = _submit(stack, "shot.blend 1-6 --chunk 3")
    worker = _worker(stack, tmp_path, PillowRenderer(fail_frames={2}))
    first, second = [RenderTask.from_json(body) for body in stack.queued_bodies()]
    for _ in range(3):  # every delivery SQS makes of the chunk before the dead-letter queue
        with pytest.raises(FramesFailed, match=r"1 of 3 frames failed \(frame 2: .*missing texture"):
            worker.run(first)
    worker.run(second)
    assert fail_task(stack.reporter, first, stack.queue) == [2]
    records = {record.frame: record for record in stack.jobs.frames(job.job_id)}
    assert [frame for frame, record in records.items() if record.outcome is FrameOutcome.DONE] == [
        1,
        3,
        4,
        5,
        6,
    ]
    assert "missing texture wood.png" in records[2].error and "stopped before" not in records[2].error
    (completed,) = _completions(stack)
    assert (completed.status, completed.failed_frames) == ("done_with_failures", [2])


def test_frames_no_delivery_got_to_are_tried_again_one_by_one_not_failed_with_a_guess(
    stack: Stack, tmp_path: Path
) -> None:
    job = _submit(stack, "shot.blend 1-3 --chunk 3")
    (chunk,) = [RenderTask.from_json(body) for body in stack.queued_bodies()]
    # every delivery was killed (out of memory, the time limit) before recording anything: nothing noted
    assert fail_task(stack.reporter, chunk, stack.queue) == []
    singles = [RenderTask.from_json(body) for body in stack.queued_bodies()]
    assert [task.frames for task in singles] == [(1,), (2,), (3,)]
    worker = _worker(stack, tmp_path, PillowRenderer())
    for task in singles:
        worker.run(task)
    final = stack.jobs.get(job.job_id)
    assert (final.status, final.done, final.failed) == (JobStatus.DONE, 3, 0)
    # a frame alone in its task that dies on every delivery is what killed it: it fails, saying so
    lone = _submit(stack, "shot.blend 7")
    (task,) = [RenderTask.from_json(body) for body in stack.queued_bodies()]
    assert fail_task(stack.reporter, task, stack.queue) == [7] and stack.queued_bodies() == []
    (record,) = stack.jobs.frames(lone.job_id)
    assert record.error == "failed on every delivery; last error: the worker stopped before finishing it"


class SlowRenderer(PillowRenderer):
    """A frame that takes `seconds` (a heavy production frame, scaled down)."""

    def __init__(self, seconds: float, looks_like: float | None = None) -> None:
        super().__init__()
        self.seconds = seconds
        self.looks_like = seconds if looks_like is None else looks_like  # what its small renders promise

    def render(
        self,
        scene_path: Path,
        frame: int,
        settings: Any,
        out_stem: Path,
        allow_missing: bool = False,
        tile: int | None = None,
    ) -> Path:
        time.sleep(self.seconds / tile_count(settings.tiles))
        return super().render(scene_path, frame, settings, out_stem, allow_missing, tile)

    def measure(
        self, scene_path: Path, frame: int, settings: Any, scale: float, allow_missing: bool = False
    ) -> tuple[float, float]:
        seconds = self.looks_like * scale * scale  # its time grows with the pixels
        time.sleep(min(seconds, 0.5))
        return seconds, scale * scale


def test_a_frame_past_the_time_limit_is_stopped_recorded_told_at_once_and_never_retried(
    stack: Stack, tmp_path: Path
) -> None:
    job = _submit(stack, "shot.blend 7")
    (task,) = [RenderTask.from_json(body) for body in stack.queued_bodies()]
    exits: list[int] = []
    worker = RenderWorker(
        jobs=stack.jobs,
        reporter=stack.reporter,
        scenes=SceneCache(stack.store, tmp_path / "scenes"),
        renderer=SlowRenderer(seconds=3.0),
        uploader=stack.store,
        work_dir=tmp_path,
        limit_s=4.0,  # a 15-minute Lambda, scaled down
        margin_s=3.0,  # the watchdog fires 1 s into the frame
        exit=exits.append,  # the process would exit here (bpy cannot stop a render)
    )
    worker.run(task, remaining_s=lambda: 4.0)
    assert exits == [EXIT_STOPPED] and worker.renderer.rendered == [7]  # type: ignore[attr-defined]
    (record,) = stack.jobs.frames(job.job_id)
    assert record.outcome is FrameOutcome.FAILED and record.billed_s > 0.5
    assert record.error.startswith(
        "frame 7 was stopped after 1 s of the 4 s a render may run (3 s are kept to record it and tell you)"
    )
    assert f"`/render retry {job.job_id}` renders it as tiles" in record.error
    events = stack.events()
    (stopped,) = [event for event in events if isinstance(event, FrameStopped)]
    assert stopped.frame == 7 and 0.5 < stopped.ran_s < 4.0  # told within the limit, not after it
    (completed,) = _completions(stack)
    assert (completed.status, completed.failed_frames) == ("done_with_failures", [7])
    assert stack.jobs.get(job.job_id).billed_s > 0.5  # the seconds it ran count in the measured cost
    # SQS delivers the task again (the process exited): acknowledged without rendering
    again = _worker(stack, tmp_path, PillowRenderer())
    assert again.run(task).rendered == [] and again.renderer.rendered == []  # type: ignore[attr-defined]


def test_a_probe_past_the_time_limit_stops_its_job_before_anything_more_is_spent(
    stack: Stack, tmp_path: Path
) -> None:
    job = _submit(stack, "shot.blend 1-60")
    first = RenderTask.from_json(stack.queued_bodies()[0])
    assert first.probe
    worker = RenderWorker(
        jobs=stack.jobs,
        reporter=stack.reporter,
        scenes=SceneCache(stack.store, tmp_path / "scenes"),
        renderer=SlowRenderer(seconds=2.0, looks_like=0.1),  # its small renders promised a quick frame
        uploader=stack.store,
        work_dir=tmp_path,
        limit_s=3.0,
        margin_s=2.5,
        exit=lambda code: None,
    )
    worker.run(first, remaining_s=lambda: 3.0)
    stopped = stack.jobs.get(job.job_id)
    assert stopped.status is JobStatus.FAILED and "was stopped" in stopped.failure
    assert stack.queued_bodies() == []  # the rest was never queued


def test_a_probe_whose_small_render_shows_a_frame_too_long_re_plans_the_job_as_tiles(
    stack: Stack, tmp_path: Path
) -> None:
    job = _submit(stack, "shot.blend 1-60")
    first, second, _ = [RenderTask.from_json(body) for body in stack.queued_bodies()]
    renderer = SlowRenderer(seconds=12.0)  # 4× what a render may run: found out from 1/16 and 1/64 of it
    worker = RenderWorker(
        jobs=stack.jobs,
        reporter=stack.reporter,
        scenes=SceneCache(stack.store, tmp_path / "scenes"),
        renderer=renderer,
        uploader=stack.store,
        work_dir=tmp_path,
        limit_s=10.0,
        margin_s=7.0,  # a frame may run 3 s
        exit=lambda code: None,
    )
    worker.run(first, remaining_s=lambda: 10.0)
    replanned = stack.jobs.get(job.job_id)
    assert renderer.rendered == [] and renderer.tiles == []  # nothing rendered whole, nothing burnt
    # 12 tiles of 4×3 would each run a hair over 1 s with their overscan: 5×3, near-square, fits
    assert replanned.settings.tiles == (5, 3) and replanned.replanned.startswith(
        "frame 1 would take about 12 s"
    )
    assert replanned.status is JobStatus.RUNNING and replanned.estimate is not None
    assert replanned.estimate.render_s == pytest.approx(12.0, rel=0.25)
    tiles = [RenderTask.from_json(body) for body in stack.queued_bodies()]
    assert len(tiles) == 60 * 15 and {(task.settings.tiles, task.tile is not None) for task in tiles} == {
        ((5, 3), True)
    }
    # the other probes, queued whole before the re-plan, are acknowledged without rendering
    assert worker.run(second).rendered == [] and renderer.rendered == []
    # a tile fits: 12 s / 15 is well inside the 3 s a render may run
    assert worker.run(tiles[0], remaining_s=lambda: 10.0).rendered == [] and renderer.tiles == [(1, 0)]
    assert stack.jobs.get(job.job_id).tile_counts == {1: 1}


def test_a_frame_too_long_even_for_tiles_fails_its_job_at_the_probe(stack: Stack, tmp_path: Path) -> None:
    job = _submit(stack, "shot.blend 1-60")
    first = RenderTask.from_json(stack.queued_bodies()[0])
    worker = _worker(stack, tmp_path, SlowRenderer(seconds=0.0, looks_like=36000.0))  # 10 h a frame
    worker.run(first)
    failed = stack.jobs.get(job.job_id)
    assert failed.status is JobStatus.FAILED and "even 64 tiles would not fit" in failed.failure
    assert "lower `--samples` or `--res`" in failed.failure and worker.renderer.rendered == []  # type: ignore[attr-defined]


def test_a_frame_the_watchdog_stopped_is_retried_as_tiles_planned_from_a_small_look(
    stack: Stack, tmp_path: Path
) -> None:
    # GIVEN frame 7 stopped by the watchdog: it ran the 1 s a frame may run of a 4 s limit
    job = _submit(stack, "shot.blend 7")
    (task,) = [RenderTask.from_json(body) for body in stack.queued_bodies()]
    renderer = SlowRenderer(seconds=3.0, looks_like=0.5)  # its small looks promise a frame that fits
    stopping = RenderWorker(
        jobs=stack.jobs,
        reporter=stack.reporter,
        scenes=SceneCache(stack.store, tmp_path / "scenes"),
        renderer=renderer,
        uploader=stack.store,
        work_dir=tmp_path,
        limit_s=4.0,
        margin_s=3.0,
        exit=lambda code: None,
    )
    stopping.run(task, remaining_s=lambda: 4.0)
    (stopped,) = stack.jobs.frames(job.job_id)
    assert stopped.stopped_s > 0.5
    # WHEN it is retried as it was
    stack.queued_bodies()
    retry = stack.service.retry(stack.jobs.get(job.job_id), [7], requested_by="U1", channel="C1")
    assert retry.job is not None and retry.job.settings.tiles_auto
    assert retry.job.settings.at_least_s == pytest.approx(stopped.stopped_s)
    (probe,) = [RenderTask.from_json(body) for body in stack.queued_bodies()]
    # THEN the probe re-plans it as tiles (the stop showed it does not fit whole) instead of rendering it whole
    stopping.run(probe, remaining_s=lambda: 4.0)
    replanned = stack.jobs.get(retry.job.job_id)
    assert replanned.settings.tiles is not None and renderer.rendered == [7]  # only the first, stopped render
    assert "stopped" in replanned.replanned
    tiles = [RenderTask.from_json(body) for body in stack.queued_bodies()]
    assert tiles and all(tile.tile is not None for tile in tiles)


def test_a_retry_takes_tiles_samples_and_resolution(stack: Stack, tmp_path: Path) -> None:
    job = _submit(stack, "shot.blend 7")
    stack.queued_bodies()
    stack.reporter.frame_failed(job.job_id, 7, "Blender crashed")
    changes = parse_retry(split_words(f"{job.job_id} --tiles 2x2 --samples 8 --res 64x36"))
    assert changes.job_id == job.job_id
    failed = stack.jobs.get(job.job_id)
    retry = stack.service.retry(failed, [7], requested_by="U1", channel="C1", changes=changes)
    assert retry.job is not None
    settings = retry.job.settings
    assert (settings.tiles, settings.samples, settings.resolution) == ((2, 2), 8, (64, 36))
    assert not settings.tiles_auto and settings.at_least_s == 0.0


class LayeredRenderer(PillowRenderer):
    """Renders as a scene of two view layers that composites nothing would: its previews show the first."""

    device = "CPU"
    preview_layer = "view layer `Foreground` (the first of 2: the scene composites nothing)"


def test_the_job_keeps_which_view_layer_its_previews_show(stack: Stack, tmp_path: Path) -> None:
    job = _submit(stack, "shot.blend 1-2 --res 32x18")
    worker = _worker(stack, tmp_path, LayeredRenderer())
    for body in stack.queued_bodies():
        worker.run(RenderTask.from_json(body))
    assert stack.jobs.get(job.job_id).preview_layer == LayeredRenderer.preview_layer
