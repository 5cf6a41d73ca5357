"""Render Lambda entry point (`blender_image.handler.handler`): SQS batch in, partial-batch failures out."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from backend.aws.s3 import S3Store
from backend.aws.sns import SnsPublisher
from backend.config import Settings
from backend.render.fanout import job_reporter
from backend.render.store import DynamoJobs
from backend.render.tasks import RenderTask
from blender_image.scene_cache import SceneCache
from blender_image.worker import RenderWorker

processor = BatchProcessor(event_type=EventType.SQS)


@cache
def worker() -> RenderWorker:
    """Built once per process (a warm Lambda container keeps Blender, the open scene and the cache)."""
    from blender_image.blender import BlenderRenderer  # bpy loads here, on the first task, not at import

    settings = Settings.from_env()
    store = S3Store()
    jobs = DynamoJobs(settings.table_name)
    work_dir = Path(settings.work_dir)
    return RenderWorker(
        jobs=jobs,
        reporter=job_reporter(settings, jobs, SnsPublisher(settings.events_topic_arn)),
        scenes=SceneCache(store, work_dir / "scenes"),
        renderer=BlenderRenderer(),
        uploader=store,
        work_dir=work_dir,
    )


def record_handler(record: SQSRecord) -> None:
    worker().run(RenderTask.from_json(record.body))


def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
