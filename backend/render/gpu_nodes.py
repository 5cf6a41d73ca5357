"""AWS Batch's word on a phase's GPU nodes: those it cancelled before any started become a notice for the job.

The gpu job queue cancels a node job left RUNNABLE for 30 minutes (`JobStateTimeLimitActions`, infra/batch.yml):
no GPU capacity in the region, or a G/VT Spot vCPU quota of 0. Batch then says FAILED with no attempt made; a node
that ran and failed is not told here (its tasks' retries and dead letters speak for it).
"""

from __future__ import annotations

from typing import Any

from backend.events import NodesNotStarted

BATCH_STATE_CHANGE = "Batch Job State Change"
NODE_JOB_PREFIX = "render-"  # backend.aws.batch.job_name: `render-<job id>`


def _is_our_queue(queue: str, job_queue: str) -> bool:
    """Batch names the queue by ARN; the deployment may name it by ARN or by name."""
    return bool(job_queue) and (queue == job_queue or queue.endswith(f":job-queue/{job_queue}"))


def nodes_not_started(event: dict[str, Any], job_queue: str) -> NodesNotStarted | None:
    """The notice a Batch job state change deserves, or None (another queue or job, or a node that started)."""
    detail = event.get("detail")
    if event.get("detail-type") != BATCH_STATE_CHANGE or not isinstance(detail, dict):
        return None
    name, batch_job_id = str(detail.get("jobName", "")), str(detail.get("jobId", ""))
    if detail.get("status") != "FAILED" or detail.get("attempts") or not name.startswith(NODE_JOB_PREFIX):
        return None
    if not _is_our_queue(str(detail.get("jobQueue", "")), job_queue):
        return None
    created, stopped = detail.get("createdAt"), detail.get("stoppedAt")
    waited_s = (stopped - created) / 1000 if isinstance(created, int) and isinstance(stopped, int) else 0.0
    return NodesNotStarted(
        job_id=name.removeprefix(NODE_JOB_PREFIX),
        batch_job_id=batch_job_id.split(":")[0],  # an array's child (`<id>:2`) speaks for its parent
        waited_s=waited_s,
    )
