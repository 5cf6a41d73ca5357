"""Hold and resume on the local stack: a held job takes no new frame within one task (the frame in hand finishes and
counts, its queued tasks are deleted unrendered, never retried), and resuming queues exactly the frames not yet
rendered, so every frame counts once across any number of holds."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from backend.commands import split_words
from backend.render.grammar import parse_render
from backend.render.records import Job, JobStatus, Priority
from backend.render.tasks import RenderSettings, RenderTask
from blender_image.scene_cache import SceneCache
from blender_image.worker import RenderWorker
from local.embedded.poller import QueuePoller
from testing.renderer import PillowRenderer

from .conftest import Stack

LEAD = "U0LEAD"


class SteeredRenderer(PillowRenderer):
    """The stand-in renderer, with something a person does while a given frame is in hand."""

    def __init__(self) -> None:
        super().__init__()
        self.during: dict[int, Callable[[], object]] = {}

    def render(
        self, scene_path: Path, frame: int, settings: RenderSettings, out_stem: Path, **more: Any
    ) -> Path:
        if (action := self.during.pop(frame, None)) is not None:
            action()
        return super().render(scene_path, frame, settings, out_stem, **more)


def _submit(stack: Stack, text: str) -> Job:
    stack.put_scene()
    submission = stack.service.submit(parse_render(split_words(text)), requested_by="U1", channel="C1")
    assert submission.job is not None
    return submission.job


def _worker(
    stack: Stack, tmp_path: Path, renderer: PillowRenderer, lanes: list[str] | None = None
) -> QueuePoller:
    """One local render worker (taking `lanes` in order, else the normal one): the stack's poller deletes a task
    its handler returned from, as Lambda does."""
    worker = RenderWorker(
        jobs=stack.jobs,
        reporter=stack.reporter,
        scenes=SceneCache(stack.store, tmp_path / "scenes"),
        renderer=renderer,
        uploader=stack.store,
        work_dir=tmp_path / "work",
    )

    def handler(event: dict[str, Any], context: Any) -> None:
        for record in event["Records"]:
            worker.run(RenderTask.from_json(record["body"]))

    urls = lanes or [stack.settings.render_queue_url]
    return QueuePoller(stack.sqs, urls, handler, "worker", wait_s=0, batch_size=1)


def _queue_counts(stack: Stack) -> tuple[int, int]:
    """Messages waiting and in flight on the render queue."""
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = stack.sqs.get_queue_attributes(
        QueueUrl=stack.settings.render_queue_url, AttributeNames=names
    )
    return int(attributes["Attributes"][names[0]]), int(attributes["Attributes"][names[1]])


def _drain(poller: QueuePoller) -> int:
    """Let the worker take tasks until the queue is empty; how many it took."""
    taken = 0
    while poller.poll_once():
        taken += 1
    return taken


def test_a_held_job_takes_no_new_frame_within_one_task_and_resume_renders_every_frame_once(
    stack: Stack, tmp_path: Path
) -> None:
    # GIVEN a 12-frame job queued, one task a frame, and a worker
    job = _submit(stack, "shot.blend 1-12 --res 32x18")
    renderer = SteeredRenderer()
    poller = _worker(stack, tmp_path, renderer)
    # WHEN the lead holds it while its first frame is in hand
    renderer.during[1] = lambda: stack.reporter.hold(job.job_id, LEAD)
    _drain(poller)
    # THEN the frame in hand finished and counts, and no other frame started: the next task took none
    held = stack.jobs.get(job.job_id)
    assert (held.status, held.held_by, held.done) == (JobStatus.HELD, LEAD, 1)
    assert renderer.rendered == [1]
    # AND its 11 other tasks were deleted unrendered: none waits or comes back
    assert _queue_counts(stack) == (0, 0)

    # WHEN it is resumed: exactly the 11 frames not yet rendered are queued again
    resumed, queued = stack.reporter.resume_held(job.job_id)
    assert (resumed.status, queued, resumed.held_by) == (JobStatus.RUNNING, 11, "")
    # AND held again while frame 2 is in hand, and resumed while that frame is still in hand (so it is queued
    # again: it has no record yet)
    requeued: list[int] = []
    renderer.during[2] = lambda: (
        stack.reporter.hold(job.job_id, LEAD),
        requeued.append(stack.reporter.resume_held(job.job_id)[1]),
    )
    # AND held once more at frame 3, then resumed after the worker found the queue's tasks held
    renderer.during[3] = lambda: stack.reporter.hold(job.job_id, LEAD)
    _drain(poller)
    assert stack.jobs.get(job.job_id).status is JobStatus.HELD
    stack.reporter.resume_held(job.job_id)
    _drain(poller)

    # THEN every frame counts once and the job is done: three holds, three resumes
    done = stack.jobs.get(job.job_id)
    assert (done.status, done.done, done.failed, done.generation) == (JobStatus.DONE, 12, 0, 6)
    assert [record.frame for record in stack.jobs.frames(job.job_id)] == list(range(1, 13))
    # AND each rendered once: frame 2, queued again while in hand, was recorded when its new task came
    assert requeued == [11]
    assert sorted(renderer.rendered) == list(range(1, 13))
    assert _queue_counts(stack) == (0, 0)


def test_a_new_priority_queues_the_frames_not_yet_rendered_in_its_lane_and_the_first_sending_is_dropped(
    stack: Stack, tmp_path: Path
) -> None:
    # GIVEN a 6-frame job queued at normal priority, its first frame rendered
    job = _submit(stack, "shot.blend 1-6 --res 32x18")
    stack.render_frames(job.job_id, [1])
    # WHEN its submitter makes it urgent
    urgent, queued = stack.reporter.prioritise(job.job_id, Priority.URGENT)
    assert (urgent.priority, urgent.generation, queued) == (Priority.URGENT, 1, 5)
    # THEN its 5 frames not yet rendered wait in the urgent lane as a new generation (the fan-out's own sending)
    lanes = stack.settings.lanes.urls(stack.settings.render_queue_url, gpu=False)
    again = [json.loads(body) for body in stack.queued_bodies(lanes["urgent"])]
    assert sorted((body["generation"], body["frames"][0]) for body in again) == [(1, f) for f in range(2, 7)]
    for body in again:  # back where they were
        stack.sqs.send_message(
            QueueUrl=lanes["urgent"], MessageBody=json.dumps(body), MessageGroupId=job.job_id
        )
    # AND a worker taking the lanes in order renders each frame once: the normal lane's first sending is dropped
    renderer = PillowRenderer()
    _drain(_worker(stack, tmp_path, renderer, list(lanes.values())))
    assert sorted(renderer.rendered) == list(range(2, 7))
    assert stack.jobs.get(job.job_id).status is JobStatus.DONE
    assert _queue_counts(stack) == (0, 0)  # the old generation's tasks were deleted, not left
