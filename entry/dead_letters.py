"""Dead-letter Lambda (`entry.dead_letters.handler`): render tasks that failed every delivery, from both classes'
dead-letter queues, each buried on its own (`backend.render.dead_letters`)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from backend.errors import NotFoundError
from backend.render.dead_letters import bury, read_dead_letter
from entry import wiring

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    """One dead task; a chunk's never-tried frames go back on its job's lane of its class (a gpu job's to the
    nodes)."""
    task = read_dead_letter(record.body, record.message_id)
    if task is None:
        return
    services = wiring.from_env()
    try:
        lane = services.fanout.queue_of(services.jobs.get(task.job_id))  # its class's lane of its priority
    except NotFoundError:  # the job is gone: nothing to queue again for
        lane = None
    bury(services.reporter, task, lane)


def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """Mark the frames of tasks that failed every delivery, reporting each record's failure on its own."""
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
