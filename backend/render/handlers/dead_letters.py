"""Dead-letter Lambda: tasks that failed every delivery have their unrecorded frames marked failed, so the job ends."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from backend import wiring
from backend.errors import NotFoundError
from backend.render.progress import JobReporter
from backend.render.tasks import RenderTask

logger = Logger(service="studiobot-dlq")
processor = BatchProcessor(event_type=EventType.SQS)


def fail_task(job_reporter: JobReporter, task: RenderTask) -> list[int]:
    """Mark the task's frames that no delivery recorded as failed; return those this call marked."""
    jobs = job_reporter.jobs
    recorded = {record.frame for record in jobs.frames(task.job_id, min(task.frames), max(task.frames))}
    missing = [frame for frame in task.frames if frame not in recorded]
    if not missing:  # every frame was recorded: what failed came after (finishing, queueing the rest)
        job_reporter.resume(task.job_id)
        return []
    errors = jobs.frame_errors(task.job_id, missing)
    marked = []
    for frame in missing:
        reason = errors.get(frame, "the worker stopped before finishing it")
        if job_reporter.frame_failed(task.job_id, frame, f"failed on every delivery; last error: {reason}"):
            marked.append(frame)
    return marked


def record_handler(record: SQSRecord) -> None:
    """One dead task: its unrecorded frames marked failed (a task of an unknown job is dropped)."""
    task = RenderTask.from_json(record.body)
    try:
        marked = fail_task(wiring.from_env().reporter, task)
    except NotFoundError:
        logger.warning("dead task of an unknown job dropped", job_id=task.job_id)
        return
    logger.warning("frames marked failed", job_id=task.job_id, frames=marked)


def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """Mark the frames of tasks that failed every delivery, reporting each record's failure on its own."""
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
