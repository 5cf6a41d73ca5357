"""Dead render tasks (`entry.dead_letters`): a task that failed every delivery has its unrecorded frames marked
failed, so the job ends.

A frame is failed with the error noted when it was tried. A chunk's frames that no delivery ever got to (the process
stopped each time on an earlier one: a crash, a kill, the time limit) are not failed with a guess: each goes back
on the render queue as its own task, tried afresh; a single-frame task that dies every time fails as what it is.
"""

from __future__ import annotations

import dataclasses

from aws_lambda_powertools import Logger

from backend.errors import NotFoundError
from backend.render.job_life import JobLifecycle
from backend.render.ports import TaskQueue
from backend.render.tasks import RenderTask, UnreadableTask
from backend.render.tiles import describe

logger = Logger(service="studiobot-dlq")


def fail_task(job_reporter: JobLifecycle, task: RenderTask, queue: TaskQueue | None = None) -> list[int]:
    """Mark the task's frames that no delivery recorded as failed, but put a chunk's never-tried frames back on
    `queue` one per task; return the frames this call marked failed."""
    jobs = job_reporter.jobs
    recorded = {record.frame for record in jobs.frames(task.job_id, min(task.frames), max(task.frames))}
    missing = [frame for frame in task.frames if frame not in recorded]
    if not missing:  # every frame was recorded: what failed came after (finishing, queueing the rest)
        job_reporter.resume(task.job_id)
        return []
    errors = jobs.frame_errors(task.job_id, missing)
    if task.tile is not None and task.settings.tiles:  # one tile failed every time: it fails its frame
        frame = task.frames[0]
        reason = errors.get(frame, "the worker stopped before finishing it")
        if any(record.tile == task.tile for record in jobs.tiles(task.job_id, frame)):
            # the tile is in: what failed every time came after it, stitching the frame
            why = f"its tiles were rendered but could not be stitched; last error: {reason}"
            return [frame] if job_reporter.frame_failed(task.job_id, frame, why, tiled=True) else []
        where = describe(task.tile, task.settings.tiles)
        failed = job_reporter.tile_failed(
            task.job_id, frame, task.tile, f"{where} failed on every delivery; last error: {reason}"
        )
        return [frame] if failed else []
    untried = [frame for frame in missing if frame not in errors]
    if queue is not None and len(task.frames) > 1 and untried:
        queue.send_all(
            [dataclasses.replace(task, frames=(frame,)).to_json() for frame in untried], group=task.job_id
        )
        logger.warning("frames never tried, queued again one by one", job_id=task.job_id, frames=untried)
        missing = [frame for frame in missing if frame in errors]
    marked = []
    for frame in missing:
        reason = errors.get(frame, "the worker stopped before finishing it")
        if job_reporter.frame_failed(task.job_id, frame, f"failed on every delivery; last error: {reason}"):
            marked.append(frame)
    return marked


def read_dead_letter(body: str, message_id: str) -> RenderTask | None:
    """The dead task a message carries; None (logged once) for a message that is no task at all: this queue is
    the end of the line, so it is dropped."""
    try:
        return RenderTask.from_json(body)
    except UnreadableTask as error:
        logger.error(
            "unreadable dead letter dropped", message_id=message_id, error=str(error), excerpt=body[:500]
        )
        return None


def bury(job_reporter: JobLifecycle, task: RenderTask, queue: TaskQueue | None) -> None:
    """One dead task: its unrecorded frames marked failed (`fail_task`); a task of an unknown job is logged once
    and dropped."""
    try:
        marked = fail_task(job_reporter, task, queue)
    except NotFoundError:
        logger.warning("dead task of an unknown job dropped", job_id=task.job_id)
        return
    logger.warning("frames marked failed", job_id=task.job_id, frames=marked)
