"""A render job's life in DynamoDB: every transition is a conditional write, and this module owns them all.

    QUEUED ──first frame starts──► RUNNING ──last frame accounted──► DONE | DONE_WITH_FAILURES
    PROBING ──probes rendered──► RUNNING (the rest queued)   or ──a probe failed──► FAILED
       └──estimate needs a Submit──► AWAITING_APPROVAL ──Submit──► PROBING | QUEUED | RUNNING
                                            └──nobody in time──► EXPIRED
    any of QUEUED, PROBING, AWAITING_APPROVAL, RUNNING ──cancel──► CANCELLED

A job waiting for Submit carries `awaiting` (the key of the sparse `by_awaiting` index), so the expiry sweep finds
the waiting jobs without reading the others.

One table holds jobs (`pk=JOB#id, sk=JOB`) and their frames (`sk=FRAME#00000042`). A frame item is written once,
with its outcome, in the same transaction that moves the job's counters, so a frame counts once however many times
it is delivered, and `remaining` reaches 0 exactly when every frame is accounted for.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import boto3
from botocore.exceptions import ClientError

from backend.errors import AwsError, ConflictError, NotFoundError
from backend.render.estimates import Approval, Estimate
from backend.render.records import ACTIVE, FINAL, FrameOutcome, FrameRecord, Job, JobStatus, Recorded
from backend.render.tasks import RenderSettings

__all__ = [
    "ACTIVE",
    "DynamoJobs",
    "FrameOutcome",
    "FrameRecord",
    "Job",
    "JobStatus",
    "Recorded",
    "job_id_for",
]


ENQUEUE_LEASE_S = 900.0  # the longest a Lambda may run: an enqueue still going is never taken over


def job_id_for(client_token: str) -> str:
    """A short job id derived from the client token, so a resubmission finds the same job."""
    return "r" + hashlib.sha256(client_token.encode()).hexdigest()[:9]


def _job_key(job_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"JOB#{job_id}"}, "sk": {"S": "JOB"}}


def _frame_sk(frame: int) -> str:
    return f"FRAME#{frame:08d}"


def _error_sk(frame: int) -> str:
    return f"ERROR#{frame:08d}"


class DynamoJobs:
    """Job records and their transitions; the only code that changes a job's status or counters."""

    def __init__(
        self, table_name: str, client: Any | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.table_name = table_name
        self._client = client
        self._clock = clock

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = boto3.client("dynamodb")
        return self._client

    # -- creation -------------------------------------------------------------------------------------------

    def create(self, job: Job) -> tuple[Job, bool]:
        """Store a new QUEUED job; if that id exists already, return the stored one and False."""
        item = _to_item(job)
        try:
            self.client.put_item(
                TableName=self.table_name, Item=item, ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as error:
            if _code(error) != "ConditionalCheckFailedException":
                raise _aws(error, "create the job") from error
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

    # -- reading ----------------------------------------------------------------------------------------------

    def get(self, job_id: str) -> Job:
        try:
            response = self.client.get_item(
                TableName=self.table_name, Key=_job_key(job_id), ConsistentRead=True
            )
        except ClientError as error:
            raise _aws(error, "read the job") from error
        if "Item" not in response:
            raise NotFoundError(f"There is no render job `{job_id}`: `/render list` shows recent jobs.")
        return _from_item(response["Item"])

    def recent(self, channel: str, limit: int = 20) -> list[Job]:
        """The channel's most recent jobs, newest first."""
        try:
            response = self.client.query(
                TableName=self.table_name,
                IndexName="by_channel",
                KeyConditionExpression="channel = :channel",
                ExpressionAttributeValues={":channel": {"S": channel}},
                ScanIndexForward=False,
                Limit=limit,
            )
        except ClientError as error:
            raise _aws(error, "list the channel's jobs") from error
        return [_from_item(item) for item in response["Items"]]

    def frames(self, job_id: str, first: int | None = None, last: int | None = None) -> list[FrameRecord]:
        """Recorded frames of a job, optionally only those between `first` and `last`."""
        low = _frame_sk(first if first is not None else 0)
        high = _frame_sk(last) if last is not None else "FRAME#~"
        records: list[FrameRecord] = []
        try:
            paginator = self.client.get_paginator("query")
            for page in paginator.paginate(
                TableName=self.table_name,
                KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
                ExpressionAttributeValues={
                    ":pk": {"S": f"JOB#{job_id}"},
                    ":low": {"S": low},
                    ":high": {"S": high},
                },
                ConsistentRead=True,
            ):
                records.extend(_frame_from_item(item) for item in page["Items"])
        except ClientError as error:
            raise _aws(error, "read the job's frames") from error
        return records

    def failed_frames(self, job_id: str) -> list[int]:
        """The job's frames recorded as failed, in frame order."""
        return sorted(record.frame for record in self.frames(job_id) if record.outcome is FrameOutcome.FAILED)

    def frame_errors(self, job_id: str, frames: Iterable[int]) -> dict[int, str]:
        """The last error noted for each of these frames, where there is one."""
        keys = [{"pk": {"S": f"JOB#{job_id}"}, "sk": {"S": _error_sk(frame)}} for frame in frames]
        items = self._batch_get(keys, "read frame errors")
        return {int(item["sk"]["S"].split("#")[1]): item["error"]["S"] for item in items}

    def frames_at(self, job_id: str, frames: Iterable[int]) -> list[FrameRecord]:
        """The records of these frames that exist (the probe frames)."""
        keys = [{"pk": {"S": f"JOB#{job_id}"}, "sk": {"S": _frame_sk(frame)}} for frame in frames]
        records = [_frame_from_item(item) for item in self._batch_get(keys, "read the probe frames")]
        return sorted(records, key=lambda record: record.frame)

    def _batch_get(self, keys: list[dict[str, Any]], doing: str) -> list[dict[str, Any]]:
        """Every item of these keys that exists: 100 keys a call (BatchGetItem's limit), unprocessed ones again."""
        items: list[dict[str, Any]] = []
        for start in range(0, len(keys), 100):
            request = {self.table_name: {"Keys": keys[start : start + 100], "ConsistentRead": True}}
            while request:
                try:
                    response = self.client.batch_get_item(RequestItems=request)
                except ClientError as error:
                    raise _aws(error, doing) from error
                items.extend(response["Responses"].get(self.table_name, []))
                request = response.get("UnprocessedKeys") or {}
        return items

    def awaiting_since_before(self, cutoff: float) -> list[str]:
        """Ids of the jobs waiting for Submit since before `cutoff` (the sparse `by_awaiting` index)."""
        ids: list[str] = []
        try:
            for page in self.client.get_paginator("query").paginate(
                TableName=self.table_name,
                IndexName="by_awaiting",
                KeyConditionExpression="awaiting = :yes AND awaiting_since <= :cutoff",
                ExpressionAttributeValues={":yes": {"S": AWAITING}, ":cutoff": {"N": repr(cutoff)}},
            ):
                ids.extend(item["pk"]["S"].removeprefix("JOB#") for item in page["Items"])
        except ClientError as error:
            raise _aws(error, "list the jobs waiting for Submit") from error
        return ids

    # -- transitions -------------------------------------------------------------------------------------------

    def start(self, job_id: str) -> bool:
        """QUEUED → RUNNING; False if the job was not QUEUED (already running, or over)."""
        return self._transition(
            job_id,
            "SET #status = :running, started_at = :now",
            {":running": {"S": JobStatus.RUNNING}, ":queued": {"S": JobStatus.QUEUED}},
            condition="#status = :queued",
        )

    def record_frame(self, job_id: str, record: FrameRecord) -> Recorded:
        """Write a frame's outcome and move the job's counters, once; a repeat changes nothing."""
        counter = "done" if record.outcome is FrameOutcome.DONE else "failed"
        item = {
            "pk": {"S": f"JOB#{job_id}"},
            "sk": {"S": _frame_sk(record.frame)},
            "frame": {"N": str(record.frame)},
            "outcome": {"S": record.outcome},
            "seconds": {"N": repr(round(record.seconds, 4))},
            "billed_s": {"N": repr(round(record.billed_s, 3))},
            "output_key": {"S": record.output_key},
            "error": {"S": record.error[:1000]},
            "recorded_at": {"N": repr(self._clock())},
        }
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": item,
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.table_name,
                            "Key": _job_key(job_id),
                            "UpdateExpression": f"ADD {counter} :one, remaining :minus_one, billed_s :billed",
                            "ConditionExpression": "attribute_exists(pk)",
                            "ExpressionAttributeValues": {
                                ":one": {"N": "1"},
                                ":minus_one": {"N": "-1"},
                                ":billed": {"N": repr(round(record.billed_s, 3))},
                            },
                        }
                    },
                ]
            )
            counted = True
        except ClientError as error:
            reasons = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
            if _code(error) != "TransactionCanceledException" or not reasons:
                raise _aws(error, "record the frame") from error
            if reasons[0] != "ConditionalCheckFailed":
                if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                    raise NotFoundError(f"There is no render job `{job_id}`.") from error
                raise _aws(error, "record the frame") from error
            counted = False  # the frame was recorded by an earlier delivery
        return Recorded(counted=counted, job=self.get(job_id))

    def note_frame_error(self, job_id: str, frame: int, message: str) -> None:
        """Remember why a frame's render failed (kept for the failure report; does not count the frame)."""
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item={
                    "pk": {"S": f"JOB#{job_id}"},
                    "sk": {"S": _error_sk(frame)},
                    "error": {"S": message[:1000]},
                    "at": {"N": repr(self._clock())},
                },
            )
        except ClientError as error:
            raise _aws(error, "note the frame's error") from error

    def finish(self, job_id: str) -> Job | None:
        """RUNNING/QUEUED → DONE or DONE_WITH_FAILURES once no frame remains; the one caller that wins gets the job."""
        job = self.get(job_id)
        if job.status.is_final or job.remaining > 0:
            return None
        final = JobStatus.DONE if job.failed == 0 else JobStatus.DONE_WITH_FAILURES
        won = self._transition(
            job_id,
            "SET #status = :final, finished_at = :now",
            {
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
            "SET #status = :cancelled, finished_at = :now REMOVE awaiting",
            {":cancelled": {"S": JobStatus.CANCELLED}, **_statuses(ACTIVE)},
            condition=f"#status IN ({_names(ACTIVE)})",
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
        values: dict[str, Any] = {":probing": {"S": JobStatus.PROBING}, **_estimate_values(estimate)}
        update = "SET #status = :next, estimated_at = :now, " + _ESTIMATE_SET
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

    def fail(self, job_id: str, reason: str) -> Job | None:
        """PROBING → FAILED (a probe frame failed); the one caller that moved it gets the job."""
        won = self._transition(
            job_id,
            "SET #status = :failed, failure = :why, finished_at = :now",
            {
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
            "approved_at = :now REMOVE awaiting",
            {
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
            "SET #status = :expired, failure = :why, finished_at = :now",
            {
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

    def claim_progress_report(self, job: Job, interval_s: float) -> bool:
        """True for at most one caller per interval per job: the throttle for JobProgress events."""
        return self._claim_interval(job.job_id, "progress_at", job.progress_at, interval_s)

    def claim_card_update(self, job: Job, interval_s: float) -> bool:
        """True for at most one caller per interval per job: the throttle for `chat.update` of the job card."""
        return self._claim_interval(job.job_id, "card_updated_at", job.card_updated_at, interval_s)

    def attach_card(self, job_id: str, channel: str, ts: str) -> bool:
        """Remember the job card's message; False if the job already has one."""
        return self._transition(
            job_id,
            "SET card_channel = :channel, card_ts = :ts, card_updated_at = :now",
            {":channel": {"S": channel}, ":ts": {"S": ts}},
            condition="attribute_not_exists(card_ts)",
            uses_status=False,
        )

    def claim_completion_notice(self, job_id: str) -> bool:
        """True for the one notifier that may announce the job's end (SNS delivers at least once)."""
        return self._transition(
            job_id,
            "SET notified_at = :now",
            _statuses(FINAL),
            condition=f"attribute_not_exists(notified_at) AND #status IN ({_names(FINAL)})",
        )

    def claim_notice(self, job_id: str, name: str) -> bool:
        """True for the one notifier that may post the job's `name` notice (an estimate, a Submit)."""
        return self._transition(
            job_id,
            f"SET notice_{name} = :now",
            {},
            condition=f"attribute_not_exists(notice_{name})",
            uses_status=False,
        )

    def release_notice(self, job_id: str, name: str) -> None:
        """Give a notice's claim back when it could not be posted, so the next delivery posts it."""
        self._transition(
            job_id, f"REMOVE notice_{name}", {}, condition="attribute_exists(pk)", uses_status=False
        )

    def release_completion_notice(self, job_id: str) -> None:
        """Give the claim back when the notice could not be sent, so the next delivery sends it."""
        self._transition(
            job_id, "REMOVE notified_at", {}, condition="attribute_exists(pk)", uses_status=False
        )

    def mark_card_updated(self, job_id: str) -> None:
        """Note when the card was last changed (the final update is not throttled, only spaced)."""
        self._transition(
            job_id, "SET card_updated_at = :now", {}, condition="attribute_exists(pk)", uses_status=False
        )

    def _claim_interval(self, job_id: str, attribute: str, last: float | None, interval_s: float) -> bool:
        now = self._clock()
        if last is not None and last > now - interval_s:
            return False  # the record just read says it happened recently: no write needed
        return self._transition(
            job_id,
            f"SET {attribute} = :now",
            {":cutoff": {"N": repr(now - interval_s)}},
            condition=f"attribute_not_exists({attribute}) OR {attribute} <= :cutoff",
            now=now,
            uses_status=False,
        )

    # -- plumbing -----------------------------------------------------------------------------------------------

    def _transition(
        self,
        job_id: str,
        update: str,
        values: dict[str, Any],
        condition: str,
        now: float | None = None,
        uses_status: bool = True,
    ) -> bool:
        if ":now" in update or ":now" in condition:  # DynamoDB refuses a value the expressions do not use
            values = {**values, ":now": {"N": repr(self._clock() if now is None else now)}}
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=_job_key(job_id),
                UpdateExpression=update,
                ConditionExpression=f"attribute_exists(pk) AND ({condition})",
                **({"ExpressionAttributeValues": values} if values else {}),
                **({"ExpressionAttributeNames": {"#status": "status"}} if uses_status else {}),
            )
        except ClientError as error:
            if _code(error) == "ConditionalCheckFailedException":
                return False
            raise _aws(error, "update the job") from error
        return True

    def _update(self, job_id: str, update: str, values: dict[str, Any], condition: str) -> None:
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=_job_key(job_id),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if _code(error) == "ConditionalCheckFailedException":
                raise NotFoundError(f"There is no render job `{job_id}`.") from error
            raise _aws(error, "update the job") from error


AWAITING = "yes"  # the `awaiting` attribute's one value: the hash key of the sparse by_awaiting index
_ESTIMATE_SET = "est_frame_s = :frame_s, est_render_s = :render_s, est_cost_usd = :cost, est_eta_s = :eta"


def _estimate_values(estimate: Estimate) -> dict[str, Any]:
    return {
        ":frame_s": {"N": repr(round(estimate.frame_s, 4))},
        ":render_s": {"N": repr(round(estimate.render_s, 4))},
        ":cost": {"N": repr(round(estimate.cost_usd, 6))},
        ":eta": {"N": repr(round(estimate.eta_s, 1))},
    }


def _names(statuses: Iterable[JobStatus]) -> str:
    return ", ".join(f":s_{status}" for status in statuses)


def _statuses(statuses: Iterable[JobStatus]) -> dict[str, Any]:
    return {f":s_{status}": {"S": status} for status in statuses}


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _aws(error: ClientError, doing: str) -> AwsError:
    code = _code(error)
    return AwsError(f"Could not {doing} in DynamoDB ({code}).", code)


def _to_item(job: Job) -> dict[str, Any]:
    item: dict[str, Any] = {
        **_job_key(job.job_id),
        "job_id": {"S": job.job_id},
        "status": {"S": job.status},
        "scene_bucket": {"S": job.scene_bucket},
        "scene_key": {"S": job.scene_key},
        "scene_etag": {"S": job.scene_etag},
        "frames_spec": {"S": job.frames_spec},
        "total": {"N": str(job.total)},
        "task_count": {"N": str(job.task_count)},
        "done": {"N": str(job.done)},
        "failed": {"N": str(job.failed)},
        "remaining": {"N": str(job.remaining)},
        "settings": {"S": json.dumps(job.settings.to_dict())},
        "output_bucket": {"S": job.output_bucket},
        "output_prefix": {"S": job.output_prefix},
        "requested_by": {"S": job.requested_by},
        "created_at": {"N": repr(job.created_at)},
        "enqueued": {"BOOL": job.enqueued},
    }
    if job.assets_prefix:
        item["assets_prefix"] = {"S": job.assets_prefix}
    if job.retry_of:
        item["retry_of"] = {"S": job.retry_of}
    if job.channel:  # a key of the by_channel index: DynamoDB refuses it empty
        item["channel"] = {"S": job.channel}
    if job.probe_frames:
        item["probe_frames"] = {"S": ",".join(str(frame) for frame in job.probe_frames)}
        item["probes_enqueued"] = {"BOOL": job.probes_enqueued}
    if job.approval:
        item["approval"] = {"S": job.approval}
        item["approval_reason"] = {"S": job.approval_reason}
    if job.status is JobStatus.AWAITING_APPROVAL:
        item["awaiting"] = {"S": AWAITING}
        item["awaiting_since"] = {"N": repr(job.awaiting_since or job.created_at)}
    return item


def _number(item: dict[str, Any], name: str) -> float | None:
    return float(Decimal(item[name]["N"])) if name in item else None


def _from_item(item: dict[str, Any]) -> Job:
    return Job(
        job_id=item["job_id"]["S"],
        status=JobStatus(item["status"]["S"]),
        scene_bucket=item["scene_bucket"]["S"],
        scene_key=item["scene_key"]["S"],
        scene_etag=item["scene_etag"]["S"],
        frames_spec=item["frames_spec"]["S"],
        total=int(item["total"]["N"]),
        task_count=int(item["task_count"]["N"]),
        settings=RenderSettings.from_dict(json.loads(item["settings"]["S"])),
        output_bucket=item["output_bucket"]["S"],
        output_prefix=item["output_prefix"]["S"],
        assets_prefix=item.get("assets_prefix", {}).get("S"),
        requested_by=item["requested_by"]["S"],
        channel=item.get("channel", {}).get("S", ""),
        done=int(item["done"]["N"]),
        failed=int(item["failed"]["N"]),
        created_at=_number(item, "created_at") or 0.0,
        started_at=_number(item, "started_at"),
        finished_at=_number(item, "finished_at"),
        enqueued=item.get("enqueued", {}).get("BOOL", False),
        progress_at=_number(item, "progress_at"),
        card_channel=item.get("card_channel", {}).get("S", ""),
        card_ts=item.get("card_ts", {}).get("S", ""),
        card_updated_at=_number(item, "card_updated_at"),
        retry_of=item.get("retry_of", {}).get("S", ""),
        probe_frames=tuple(
            int(part) for part in item.get("probe_frames", {}).get("S", "").split(",") if part
        ),
        probes_enqueued=item.get("probes_enqueued", {}).get("BOOL", False),
        estimate=_estimate_from_item(item),
        approval=item.get("approval", {}).get("S", ""),
        approval_reason=item.get("approval_reason", {}).get("S", ""),
        awaiting_since=_number(item, "awaiting_since"),
        approved_by=item.get("approved_by", {}).get("S", ""),
        approved_by_admin=item.get("approved_by_admin", {}).get("BOOL", False),
        fanned_out_at=_number(item, "fanned_out_at"),
        billed_s=_number(item, "billed_s") or 0.0,
        failure=item.get("failure", {}).get("S", ""),
        notified="notified_at" in item,
        awaiting="awaiting" in item,
    )


def _estimate_from_item(item: dict[str, Any]) -> Estimate | None:
    if "est_cost_usd" not in item:
        return None
    return Estimate(
        frame_s=_number(item, "est_frame_s") or 0.0,
        render_s=_number(item, "est_render_s") or 0.0,
        cost_usd=_number(item, "est_cost_usd") or 0.0,
        eta_s=_number(item, "est_eta_s") or 0.0,
    )


def _frame_from_item(item: dict[str, Any]) -> FrameRecord:
    return FrameRecord(
        frame=int(item["frame"]["N"]),
        outcome=FrameOutcome(item["outcome"]["S"]),
        seconds=float(item["seconds"]["N"]),
        output_key=item["output_key"]["S"],
        error=item["error"]["S"],
        billed_s=_number(item, "billed_s") or 0.0,
    )
