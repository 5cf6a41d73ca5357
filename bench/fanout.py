"""Fan-out benchmark: a 10,000-frame job's tasks onto SQS on moto's server, batched vs one by one."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import Any

import boto3

from backend.aws.s3 import S3Store
from backend.aws.sqs import BATCH_LIMIT, SqsQueue
from backend.config import Costs
from backend.render.grammar import parse_render
from backend.render.store import DynamoJobs
from entry.wiring import Services
from local.embedded.stack import deploy, start_moto_server, use_local_aws

FRAMES = 10_000
SCENE_KEY = "scenes/x.blend"


class RecordingQueue:
    """The submit's queue, keeping what it sends so the one-per-frame loop sends the very same bodies."""

    def __init__(self, queue: SqsQueue) -> None:
        self.queue = queue
        self.bodies: list[str] = []

    def send_all(self, bodies: Sequence[str], group: str) -> None:
        """Remember the bodies, then send them as the submit would."""
        self.bodies = list(bodies)
        self.queue.send_all(bodies, group)


def run() -> dict[str, Any]:
    """Submit a 10,000-frame job (chunk 1), then send the same bodies one message each; return fanout.json."""
    server = start_moto_server()
    try:
        info = deploy(server.endpoint, stack_name="studiobot-bench")
        use_local_aws(server.endpoint)
        # The fan-out of every frame at once, as a job without probes (or the rest after them) is queued.
        settings = dataclasses.replace(info.settings(), costs=Costs(probe_over_frames=FRAMES))
        # Clients made before timing, so neither side pays for loading botocore's service models.
        sqs, s3 = boto3.client("sqs"), boto3.client("s3")
        s3.put_object(Bucket=settings.scenes_bucket, Key=SCENE_KEY, Body=b"only head_object reads this")
        queue = SqsQueue(settings.render_queue_url, client=sqs)
        recording = RecordingQueue(queue)
        jobs = DynamoJobs(settings.table_name, boto3.client("dynamodb"))
        service = Services(settings, store=S3Store(s3), jobs=jobs, queue=recording).submissions
        request = parse_render([SCENE_KEY, f"1-{FRAMES}", "--chunk", "1"], settings.limits)

        started = time.perf_counter()
        service.submit(request, requested_by="bench")
        batched_s = time.perf_counter() - started

        # Emptied between the two, so the second does not send into a queue the first filled.
        sqs.purge_queue(QueueUrl=settings.render_queue_url)
        started = time.perf_counter()
        for body in recording.bodies:
            sqs.send_message(QueueUrl=settings.render_queue_url, MessageBody=body)
        single_s = time.perf_counter() - started
    finally:
        server.stop()
    return {
        "frames": FRAMES,
        "tasks": len(recording.bodies),
        "sqs_calls": queue.calls,
        "sqs_calls_target": -(-FRAMES // BATCH_LIMIT),
        "batched_s": round(batched_s, 3),
        "single_s": round(single_s, 3),
        "speedup": round(single_s / batched_s, 2),
        "batched_includes": "the whole SubmissionService.submit: head_object, job put, enqueue claim, 1,000 "
        "SendMessageBatch calls, mark enqueued, job get",
    }
