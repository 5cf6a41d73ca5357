"""Render Lambda entry point (`entry.render.handler`): SQS batch in, partial-batch failures out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from backend.render.tasks import RenderTask, UnreadableTask
from entry import wiring

if TYPE_CHECKING:
    from blender_image.glue import TaskResult

processor = BatchProcessor(event_type=EventType.SQS)
logger = Logger(service="studiobot-render")


def record_handler(record: SQSRecord, lambda_context: LambdaContext, settle: bool = True) -> TaskResult:
    """One task; its frames are watched against the time this invocation has left. A message that is no task
    fails (logged at its first delivery only), so the queue's redrive policy moves it to the dead letters."""
    try:
        task = RenderTask.from_json(record.body)
    except UnreadableTask as error:
        if record.attributes.approximate_receive_count in (None, "1"):
            logger.error(
                "unreadable task: left for the dead letters", message_id=record.message_id, error=str(error)
            )
        raise
    # built once per process: a warm Lambda container keeps Blender, the open scene and the cache
    remaining_s = lambda: lambda_context.get_remaining_time_in_millis() / 1000  # noqa: E731
    return wiring.render_worker().run(task, remaining_s, settle=settle)


def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
