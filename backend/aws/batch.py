"""AWS Batch adapter: start a phase's GPU render nodes (`gpu` class) as one array job on the Spot job queue.

A node takes the gpu queue's tasks one after another and leaves once the queue has stayed empty (blender_image/node.py),
so a phase needs at most one node per task; the deployment's `maxGpuNodes` bounds it (infra/batch.yml).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from backend.aws.base import AwsAdapter

MAX_ARRAY_SIZE = 10_000  # an array job has 2 to 10,000 children; one node is a plain job
JOB_NAME_LIMIT = 128  # letters, digits, hyphens and underscores


def nodes_for(tasks: int, max_nodes: int) -> int:
    """How many nodes a phase of `tasks` tasks starts: one per task, at most `max_nodes`."""
    return max(0, min(tasks, max_nodes))


def job_name(job_id: str) -> str:
    """The Batch job's name, after the render job it renders (Batch allows `[A-Za-z0-9_-]`, 128 characters)."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", f"render-{job_id}")[:JOB_NAME_LIMIT]


class BatchNodes(AwsAdapter):
    """Submits render-node jobs to the gpu job queue; the client is created on first use."""

    service = "batch"
    label = "AWS Batch"
    # Batch answers nearly every refusal with ClientException (a queue or definition that is not there, disabled,
    # or not valid) and its own failures with ServerException.
    reasons: ClassVar[Mapping[str, str]] = {
        "ClientException": (
            "AWS Batch refused the job: check that this deployment has GPU nodes "
            "(`--param gpuNodes=true`) and that its job queue is enabled"
        ),
        "ServerException": "AWS Batch failed on its side: try again in a minute",
    }

    def __init__(
        self,
        job_queue: str,
        job_definition: str,
        client: Any | None = None,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(client)
        self.job_queue = job_queue  # name or ARN; "" where the deployment has no GPU nodes
        self.job_definition = job_definition  # name (its latest revision), name:revision or ARN
        self.environment = dict(environment or {})  # added to the job definition's, for every node

    def launch(self, count: int, job_id: str) -> str | None:
        """Start `count` nodes for a phase of `job_id` as one Batch job; its id, or None when none is started
        (no nodes asked for, or no GPU nodes in this deployment: a studio's own nodes take the tasks)."""
        if count < 1 or not self.job_queue:
            return None
        size = min(count, MAX_ARRAY_SIZE)
        request: dict[str, Any] = {
            "jobName": job_name(job_id),
            "jobQueue": self.job_queue,
            "jobDefinition": self.job_definition,
        }
        if size > 1:
            request["arrayProperties"] = {"size": size}
        if self.environment:
            request["containerOverrides"] = {
                "environment": [{"name": name, "value": value} for name, value in self.environment.items()]
            }
        try:
            response = self.client.submit_job(**request)
        except ClientError as error:
            nodes = "a GPU render node" if size == 1 else f"{size:,} GPU render nodes"
            raise self.aws_error(error, f"start {nodes} for `{job_id}`") from error
        return str(response["jobId"])
