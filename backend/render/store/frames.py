"""Frame records: a frame's outcome is written once, in the same transaction that moves the job's counters.

So a frame counts once however many times it is delivered, and `remaining` reaches 0 exactly when every frame is
accounted for.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from backend.errors import NotFoundError
from backend.render.records import FrameOutcome, FrameRecord, Job, JobStatus, Recorded
from backend.render.store.items import error_sk, frame_from_item, frame_sk, job_key
from backend.render.store.table import JobTable

# What a job item's copy must match for a frame's record to know the job after it without reading it: its status
# and counters (all a record moves), and what holds or re-queues its tasks.
PROVEN = ("status", "done", "failed", "remaining", "billed_s", "held_by", "generation", "priority")
# The statuses in which nothing else a record's follow-up reads changes (a probing job may be re-planned as tiles).
UNCHANGING = (JobStatus.QUEUED, JobStatus.RUNNING)


class DynamoFrameLedger(JobTable):
    """Records frames once and reads them back."""

    def record_frame(self, job_id: str, record: FrameRecord) -> Recorded:
        """Write a frame's outcome and move the job's counters, once; a repeat changes nothing."""
        counter = "done" if record.outcome is FrameOutcome.DONE else "failed"
        item = {
            "pk": {"S": f"JOB#{job_id}"},
            "sk": {"S": frame_sk(record.frame)},
            "frame": {"N": str(record.frame)},
            "outcome": {"S": record.outcome},
            "seconds": {"N": repr(round(record.seconds, 4))},
            "billed_s": {"N": repr(round(record.billed_s, 3))},
            "output_key": {"S": record.output_key},
            "error": {"S": record.error[:1000]},
            **({"stopped_s": {"N": repr(round(record.stopped_s, 3))}} if record.stopped_s else {}),
            "recorded_at": {"N": repr(self._clock())},
            **self._purge(),
        }
        missing = f"There is no render job `{job_id}`."
        seen = self._last_seen(job_id)
        if seen is not None and not record.tiled and seen["status"]["S"] in UNCHANGING:
            # The usual frame: the job as this process last saw it, proven unchanged by the transaction's
            # condition, is the job after it with its counters moved (no read after the write).
            update, after = self._count_seen(job_id, record, counter, seen)
            try:
                counted = self._record_once(item, update, "frame", missing)
            except NotFoundError:  # the job moved on since (or is gone): counted as below, then read
                pass
            else:
                return Recorded(counted=counted, job=self._seen_now(after) if counted else self.get(job_id))
        # False: an earlier delivery recorded the frame
        counted = self._record_once(item, self._count(job_id, record, counter), "frame", missing)
        return Recorded(counted=counted, job=self.get(job_id))

    def _count_seen(
        self, job_id: str, record: FrameRecord, counter: str, seen: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The job's side of an untiled frame's record on condition the job is still as `seen` (its PROVEN
        attributes), and the job item it leaves."""
        update = self._count(job_id, record, counter)
        names: dict[str, str] = update.setdefault("ExpressionAttributeNames", {})
        values: dict[str, Any] = update["ExpressionAttributeValues"]
        for index, attribute in enumerate(PROVEN):
            names[f"#seen{index}"] = attribute
            if attribute in seen:
                values[f":seen{index}"] = seen[attribute]
                update["ConditionExpression"] += f" AND #seen{index} = :seen{index}"
            else:
                update["ConditionExpression"] += f" AND attribute_not_exists(#seen{index})"
        after = dict(seen)
        for attribute, by in ((counter, ":one"), ("remaining", ":minus_one"), ("billed_s", ":billed")):
            before = Decimal(seen[attribute]["N"]) if attribute in seen else Decimal(0)
            after[attribute] = {"N": str(before + Decimal(values[by]["N"]))}
        return update, after

    def _count(self, job_id: str, record: FrameRecord, counter: str) -> dict[str, Any]:
        """The job's side of a frame's record: its counters, its billed time, and (a tiled frame) its tile count
        off the card."""
        billed = round(record.billed_s if record.job_billed_s is None else record.job_billed_s, 3)
        update: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": job_key(job_id),
            "UpdateExpression": f"ADD {counter} :one, remaining :minus_one, billed_s :billed",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": {
                ":one": {"N": "1"},
                ":minus_one": {"N": "-1"},
                ":billed": {"N": repr(billed)},
            },
        }
        if record.tiled:
            update["UpdateExpression"] += " REMOVE tile_counts.#frame"
            update["ExpressionAttributeNames"] = {"#frame": str(record.frame)}
        return update

    def note_frame_error(self, job_id: str, frame: int, message: str) -> None:
        """Remember why a frame's render failed (kept for the failure report; does not count the frame)."""
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item={
                    "pk": {"S": f"JOB#{job_id}"},
                    "sk": {"S": error_sk(frame)},
                    "error": {"S": message[:1000]},
                    "at": {"N": repr(self._clock())},
                    **self._purge(),
                },
            )
        except ClientError as error:
            raise self.aws_error(error, "note the frame's error") from error

    def frames(self, job_id: str, first: int | None = None, last: int | None = None) -> list[FrameRecord]:
        """Recorded frames of a job, optionally only those between `first` and `last`."""
        low = frame_sk(first if first is not None else 0)
        high = frame_sk(last) if last is not None else "FRAME#~"
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
                records.extend(frame_from_item(item) for item in page["Items"])
        except ClientError as error:
            raise self.aws_error(error, "read the job's frames") from error
        return records

    def failed_frames(self, job_id: str) -> list[int]:
        """The job's frames recorded as failed, in frame order."""
        return sorted(record.frame for record in self.frames(job_id) if record.outcome is FrameOutcome.FAILED)

    def frame_errors(self, job_id: str, frames: Iterable[int]) -> dict[int, str]:
        """The last error noted for each of these frames, where there is one."""
        keys = [{"pk": {"S": f"JOB#{job_id}"}, "sk": {"S": error_sk(frame)}} for frame in frames]
        items = self._batch_get(keys, "read frame errors")
        return {int(item["sk"]["S"].split("#")[1]): item["error"]["S"] for item in items}

    def job_and_frames(self, job_id: str, frames: Iterable[int]) -> tuple[Job, list[FrameRecord]]:
        """The job and the records of these frames that exist, in one read (a task's look before it renders);
        NotFoundError as `get` says it."""
        job = job_key(job_id)
        keys = [job, *({"pk": job["pk"], "sk": {"S": frame_sk(frame)}} for frame in sorted(set(frames)))]
        items = self._batch_get(keys, "read the job and its frames")
        found = [item for item in items if item["sk"]["S"] == "JOB"]
        if not found:
            raise NotFoundError(f"There is no render job `{job_id}`: `/render list` shows recent jobs.")
        records = [frame_from_item(item) for item in items if item["sk"]["S"] != "JOB"]
        return self._seen_now(found[0]), sorted(records, key=lambda record: record.frame)

    def frames_at(self, job_id: str, frames: Iterable[int]) -> list[FrameRecord]:
        """The records of these frames that exist (the probe frames)."""
        keys = [{"pk": {"S": f"JOB#{job_id}"}, "sk": {"S": frame_sk(frame)}} for frame in frames]
        records = [frame_from_item(item) for item in self._batch_get(keys, "read the probe frames")]
        return sorted(records, key=lambda record: record.frame)
