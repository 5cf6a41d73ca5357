"""The local render worker's handler: as the render Lambda's (`entry.render`), but each task's last frame is still
being delivered when it returns, behind the next task's render. Lambda acknowledges what a handler returned, so there
a task settles first; the local poller (`local.embedded.poller`) deletes a task only once its `settle` returned."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from entry.render import record_handler

if TYPE_CHECKING:
    from blender_image.glue import TaskResult

logger = Logger(service="studiobot-render")


def settling(run: Callable[[SQSRecord, Any], TaskResult]) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """A poller's handler running each record's task with `run` (which leaves its deliveries unsettled); the result's
    `settle` waits for them and names the messages whose delivery failed."""

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        failures: list[str] = []
        handed: list[tuple[str, TaskResult]] = []
        for body in event["Records"]:
            record = SQSRecord(body)
            try:
                handed.append((record.message_id, run(record, context)))
            except Exception:
                logger.exception("task failed: SQS delivers it again", message_id=record.message_id)
                failures.append(record.message_id)

        def settle() -> set[str]:
            failed = set()
            for message_id, result in handed:
                try:
                    result.settle()
                except Exception:
                    logger.exception(
                        "a frame's delivery failed: SQS delivers its task again", message_id=message_id
                    )
                    failed.add(message_id)
            return failed

        return {
            "batchItemFailures": [{"itemIdentifier": message_id} for message_id in failures],
            "settle": settle,
        }

    return handler


handler_behind = settling(lambda record, context: record_handler(record, context, settle=False))
