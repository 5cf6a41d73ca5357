"""Tile records: a tile's outcome is written once, in the same transaction that adds its billed time and its count
on the job's card; then exactly one worker wins the claim to stitch the frame (a lease, so a stitch that died is
taken over by the next delivery of the last tile).
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from backend.aws.base import error_code
from backend.render.records import FrameOutcome, TileRecord, TileRecorded
from backend.render.store.items import job_key, stitch_sk, tile_from_item, tile_sk
from backend.render.store.table import JobTable

STITCH_LEASE_S = 900.0  # the longest a render function runs: a stitch still going is never taken over


class DynamoTileLedger(JobTable):
    """Records tiles once, reads a frame's tiles back, and hands out the one claim to stitch a frame."""

    def record_tile(self, job_id: str, frame: int, record: TileRecord) -> TileRecorded:
        """Write a tile's outcome and count it on the job, once; a repeat changes nothing."""
        item = {
            "pk": {"S": f"JOB#{job_id}"},
            "sk": {"S": tile_sk(frame, record.tile)},
            "frame": {"N": str(frame)},
            "tile": {"N": str(record.tile)},
            "outcome": {"S": record.outcome},
            "seconds": {"N": repr(round(record.seconds, 4))},
            "billed_s": {"N": repr(round(record.billed_s, 3))},
            "output_key": {"S": record.output_key},
            "proxy_key": {"S": record.proxy_key},
            "cut": {"S": record.cut},
            "error": {"S": record.error[:1000]},
            "recorded_at": {"N": repr(self._clock())},
            **self._purge(),
        }
        count = {
            "TableName": self.table_name,
            "Key": job_key(job_id),
            "UpdateExpression": "ADD billed_s :billed "
            "SET tile_counts.#frame = if_not_exists(tile_counts.#frame, :zero) + :one",
            "ConditionExpression": "attribute_exists(pk) AND attribute_exists(tile_counts)",
            "ExpressionAttributeNames": {"#frame": str(frame)},
            "ExpressionAttributeValues": {
                ":one": {"N": "1"},
                ":zero": {"N": "0"},
                ":billed": {"N": repr(round(record.billed_s, 3))},
            },
        }
        missing = f"There is no tiled render job `{job_id}`."
        counted = self._record_once(item, count, "tile", missing)  # False: an earlier delivery recorded it
        return TileRecorded(counted=counted, job=self.get(job_id))

    def tiles(self, job_id: str, frame: int) -> list[TileRecord]:
        """The recorded tiles of a frame, in tile order (a strongly consistent read)."""
        try:
            response = self.client.query(
                TableName=self.table_name,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
                ExpressionAttributeValues={
                    ":pk": {"S": f"JOB#{job_id}"},
                    ":prefix": {"S": tile_sk(frame, None)},
                },
                ConsistentRead=True,
            )
        except ClientError as error:
            raise self.aws_error(error, "read the frame's tiles") from error
        records = [tile_from_item(item) for item in response["Items"]]
        return sorted(records, key=lambda record: record.tile)

    def claim_stitch(self, job_id: str, frame: int, lease_s: float = STITCH_LEASE_S) -> bool:
        """True for the one caller that stitches the frame now: a lease, so one that died is taken over later."""
        now = self._clock()
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item={
                    "pk": {"S": f"JOB#{job_id}"},
                    "sk": {"S": stitch_sk(frame)},
                    "claimed_at": {"N": repr(now)},
                    **self._purge(),
                },
                ConditionExpression="attribute_not_exists(pk) OR claimed_at < :stale",
                ExpressionAttributeValues={":stale": {"N": repr(now - lease_s)}},
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise self.aws_error(error, "claim the frame's stitch") from error
        return True

    def release_stitch(self, job_id: str, frame: int) -> None:
        """Give the claim back after a stitch failed in a way a retry can mend, so the next delivery stitches."""
        try:
            self.client.delete_item(
                TableName=self.table_name, Key={"pk": {"S": f"JOB#{job_id}"}, "sk": {"S": stitch_sk(frame)}}
            )
        except ClientError as error:
            raise self.aws_error(error, "give back the frame's stitch") from error


def done_tiles(records: list[TileRecord]) -> int:
    return sum(1 for record in records if record.outcome is FrameOutcome.DONE)
