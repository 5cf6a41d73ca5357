"""A render job's life: every status change is a conditional write, and this module owns them all.

    QUEUED ──first frame starts──► RUNNING ──last frame accounted──► DONE | DONE_WITH_FAILURES
    PROBING ──probes rendered──► RUNNING (the rest queued)   or ──a probe failed──► FAILED
       └──a probe predicts frames too long for the render function──► PROBING, re-planned as tiles (then as above)
       └──estimate needs a Submit──► AWAITING_APPROVAL ──Submit──► PROBING | QUEUED | RUNNING
                                            └──nobody in time──► EXPIRED
    any of QUEUED, PROBING, AWAITING_APPROVAL, RUNNING ──cancel──► CANCELLED

The enqueue claims are leases, so an enqueue that died halfway is resumed, and never done twice otherwise. A
transition that makes something to announce true (the end, the estimate, a Submit) puts it in the job's outbox in
the same write (`backend.render.outbox` publishes it), so no crash or failed publish can lose it.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from backend.aws.base import error_code
from backend.errors import ConflictError
from backend.render.estimates import Approval, Estimate
from backend.render.records import ACTIVE, Job, JobStatus
from backend.render.store.items import (
    AWAITING,
    ESTIMATE_SET,
    OUTBOX_VALUES,
    estimate_values,
    job_to_item,
    outbox_set,
    status_names,
    status_values,
)
from backend.render.store.table import JobTable
from backend.render.tasks import RenderSettings

ENQUEUE_LEASE_S = 900.0  # the longest a Lambda may run: an enqueue still going is never taken over


class DynamoTransitions(JobTable):
    """Creates jobs and moves them from status to status; the only code that changes a job's status."""

    def create(self, job: Job) -> tuple[Job, bool]:
        """Store a new QUEUED job; if that id exists already, return the stored one and False."""
        item = {**job_to_item(job), **self._purge()}
        try:
            self.client.put_item(
                TableName=self.table_name, Item=item, ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise self.aws_error(error, "create the job") from error
            return self.get(job.job_id), False
        return job, True

    def claim_enqueue(self, job_id: str, probes: bool = False, lease_s: float = ENQUEUE_LEASE_S) -> bool:
        """True for the one caller that may enqueue the job's tasks (`probes`: its probe tasks) now: a lease, so
        an enqueue that died halfway can be resumed, and never done twice otherwise."""
        now = self._clock()
        flag, claim = (
            ("probes_enqueued", "probes_claimed_at") if probes else ("enqueued", "enqueue_claimed_at")
        )
        return self._transition(
            job_id,
            f"SET {claim} = :now",
            {":cutoff": {"N": repr(now - lease_s)}, ":yes": {"BOOL": True}},
            condition=f"NOT {flag} = :yes AND (attribute_not_exists({claim}) OR {claim} <= :cutoff)",
            now=now,
            uses_status=False,
        )

    def mark_enqueued(self, job_id: str, probes: bool = False) -> None:
        """Remember that the job's tasks (or its probe tasks) are on the queue."""
        values: dict[str, Any] = {":yes": {"BOOL": True}}
        if probes:
            update = "SET probes_enqueued = :yes"
        else:
            update = "SET enqueued = :yes, fanned_out_at = :now"
            values[":now"] = {"N": repr(self._clock())}
        self._update(job_id, update, values, condition="attribute_exists(pk)")

    def start(self, job_id: str) -> bool:
        """QUEUED → RUNNING; False if the job was not QUEUED (already running, or over)."""
        return self._transition(
            job_id,
            "SET #status = :running, started_at = :now",
            {":running": {"S": JobStatus.RUNNING}, ":queued": {"S": JobStatus.QUEUED}},
            condition="#status = :queued",
        )

    def finish(self, job_id: str) -> Job | None:
        """RUNNING/QUEUED → DONE or DONE_WITH_FAILURES once no frame remains; the one caller that wins gets the job."""
        job = self.get(job_id)
        if job.status.is_final or job.remaining > 0:
            return None
        final = JobStatus.DONE if job.failed == 0 else JobStatus.DONE_WITH_FAILURES
        won = self._transition(
            job_id,
            "SET #status = :final, finished_at = :now, " + outbox_set("completed"),
            {
                **OUTBOX_VALUES,
                ":final": {"S": final},
                ":zero": {"N": "0"},
                ":queued": {"S": JobStatus.QUEUED},
                ":running": {"S": JobStatus.RUNNING},
            },
            condition="remaining = :zero AND #status IN (:queued, :running)",
        )
        return self.get(job_id) if won else None

    def cancel(self, job_id: str) -> Job:
        """Any active state → CANCELLED; ConflictError if the job is already over."""
        won = self._transition(
            job_id,
            "SET #status = :cancelled, finished_at = :now, " + outbox_set("completed") + " REMOVE awaiting",
            {":cancelled": {"S": JobStatus.CANCELLED}, **status_values(ACTIVE), **OUTBOX_VALUES},
            condition=f"#status IN ({status_names(ACTIVE)})",
        )
        job = self.get(job_id)
        if not won:
            raise ConflictError(
                f"Job `{job_id}` is already {job.status.replace('_', ' ')}: nothing to cancel."
            )
        return job

    def settle_probes(self, job_id: str, estimate: Estimate, approval: Approval | None) -> bool:
        """PROBING → RUNNING (the rest may be queued) or AWAITING_APPROVAL, with the estimate; True for the one
        caller that moved it."""
        values: dict[str, Any] = {
            ":probing": {"S": JobStatus.PROBING},
            **estimate_values(estimate),
            **OUTBOX_VALUES,
        }
        update = "SET #status = :next, estimated_at = :now, " + ESTIMATE_SET + ", " + outbox_set("estimated")
        if approval is None:
            values[":next"] = {"S": JobStatus.RUNNING}
        else:
            update += ", approval = :who, approval_reason = :why, awaiting = :yes, awaiting_since = :now"
            values |= {
                ":next": {"S": JobStatus.AWAITING_APPROVAL},
                ":who": {"S": approval.who},
                ":why": {"S": approval.reason},
                ":yes": {"S": AWAITING},
            }
        return self._transition(job_id, update, values, condition="#status = :probing")

    def replan(self, job_id: str, settings: RenderSettings, predicted_s: float, reason: str) -> bool:
        """PROBING, not re-planned yet: render its frames as tiles (`settings.tiles`) from now on, with the probe's
        prediction of a whole frame's seconds for the estimate; True for the one caller that re-planned it."""
        return self._transition(
            job_id,
            "SET settings = :settings, replanned = :why, predicted_s = :predicted, "
            "tile_counts = if_not_exists(tile_counts, :empty)",
            {
                ":settings": {"S": json.dumps(settings.to_dict())},
                ":why": {"S": reason[:500]},
                ":predicted": {"N": repr(round(predicted_s, 3))},
                ":empty": {"M": {}},
                ":probing": {"S": JobStatus.PROBING},
            },
            condition="#status = :probing AND attribute_not_exists(replanned)",
        )

    def note_device(self, job_id: str, device: str, preview_layer: str = "") -> None:
        """What rendered the job's first frame (kept: the card says it once, and a GPU job that fell back), and
        which view layer its previews show."""
        self._transition(
            job_id,
            "SET device = if_not_exists(device, :device), preview_layer = if_not_exists(preview_layer, :layer)",
            {":device": {"S": device[:200]}, ":layer": {"S": preview_layer[:200]}},
            condition="attribute_exists(pk)",
            uses_status=False,
        )

    def note_untaken(self, job_id: str, waited_s: float) -> None:
        """No node had taken the job after `waited_s` (the sweep told it): its card says so while it waits."""
        self._transition(
            job_id,
            "SET untaken_s = :waited",
            {":waited": {"N": repr(round(waited_s, 3))}},
            condition="attribute_exists(pk)",
            uses_status=False,
        )

    def fail(self, job_id: str, reason: str) -> Job | None:
        """PROBING → FAILED (a probe frame failed); the one caller that moved it gets the job."""
        won = self._transition(
            job_id,
            "SET #status = :failed, failure = :why, finished_at = :now, " + outbox_set("completed"),
            {
                **OUTBOX_VALUES,
                ":failed": {"S": JobStatus.FAILED},
                ":why": {"S": reason[:1000]},
                ":probing": {"S": JobStatus.PROBING},
            },
            condition="#status = :probing",
        )
        return self.get(job_id) if won else None

    def approve(self, job_id: str, by: str, by_admin: bool, next_status: JobStatus) -> bool:
        """AWAITING_APPROVAL → `next_status` (PROBING, QUEUED or RUNNING), remembering who pressed Submit; False if
        the job was not waiting any more (pressed twice, cancelled, expired)."""
        return self._transition(
            job_id,
            "SET #status = :next, approved_by = :by, approved_by_admin = :admin, approval = :none, "
            "approved_at = :now, " + outbox_set("approved") + " REMOVE awaiting",
            {
                **OUTBOX_VALUES,
                ":next": {"S": next_status},
                ":by": {"S": by},
                ":admin": {"BOOL": by_admin},
                ":none": {"S": ""},
                ":awaiting": {"S": JobStatus.AWAITING_APPROVAL},
            },
            condition="#status = :awaiting",
        )

    def expire(self, job_id: str, cutoff: float, reason: str) -> Job | None:
        """AWAITING_APPROVAL since before `cutoff` → EXPIRED; the one caller that moved it gets the job. The job
        stays in the by_awaiting index until `clear_awaiting`, so a sweep that died before announcing it is redone."""
        won = self._transition(
            job_id,
            "SET #status = :expired, failure = :why, finished_at = :now, " + outbox_set("completed"),
            {
                **OUTBOX_VALUES,
                ":expired": {"S": JobStatus.EXPIRED},
                ":why": {"S": reason},
                ":awaiting": {"S": JobStatus.AWAITING_APPROVAL},
                ":cutoff": {"N": repr(cutoff)},
            },
            condition="#status = :awaiting AND awaiting_since <= :cutoff",
        )
        return self.get(job_id) if won else None

    def clear_awaiting(self, job_id: str) -> None:
        """Take an announced expired job out of the by_awaiting index."""
        self._transition(job_id, "REMOVE awaiting", {}, condition="attribute_exists(pk)", uses_status=False)
