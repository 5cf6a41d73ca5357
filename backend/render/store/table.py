"""The jobs table's plumbing shared by every part of the job store: conditional updates and batched reads."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from backend.aws.base import AwsAdapter, error_code
from backend.errors import NotFoundError
from backend.render.records import Job
from backend.render.store.items import PURGE_ATTRIBUTE, job_from_item, job_key


class HistoryItems(AwsAdapter):
    """Items of the jobs table that live as long as the job history (`history_days`), then DynamoDB deletes them:
    a job's own, and the notifier's card of it (`bot.cards`)."""

    service: ClassVar[str] = "dynamodb"
    label: ClassVar[str] = "DynamoDB"

    def __init__(
        self,
        table_name: str,
        client: Any | None = None,
        clock: Callable[[], float] = time.time,
        history_days: float = 90.0,
    ) -> None:
        super().__init__(client)
        self.table_name = table_name
        self._clock = clock
        self._history_s = history_days * 86_400

    def _purge(self) -> dict[str, Any]:
        """The TTL attribute of an item written now: DynamoDB deletes it once the job history has passed it."""
        return {PURGE_ATTRIBUTE: {"N": str(int(self._clock() + self._history_s))}}


SEEN_JOBS = 64  # job items this process remembers as it last read or counted them (a worker has one or two)


class SeenJobs:
    """Job id → the job item as this process last read or wrote it, the most recent last, at most `most`; shared by
    a render worker's threads (its courier records frames while the next task's job is read)."""

    def __init__(self, most: int = SEEN_JOBS) -> None:
        self._items: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._most = most

    def put(self, job_id: str, item: dict[str, Any]) -> None:
        """Remember `item` as the job's latest, forgetting the longest unseen past `most`."""
        with self._lock:
            self._items[job_id] = item
            self._items.move_to_end(job_id)
            while len(self._items) > self._most:
                self._items.popitem(last=False)

    def get(self, job_id: str) -> dict[str, Any] | None:
        """The job's item as last remembered, if it still is."""
        with self._lock:
            return self._items.get(job_id)


class JobTable(HistoryItems):
    """One DynamoDB table of jobs and frames; every change to a job item is a conditional update."""

    def __init__(
        self,
        table_name: str,
        client: Any | None = None,
        clock: Callable[[], float] = time.time,
        history_days: float = 90.0,
    ) -> None:
        super().__init__(table_name, client, clock, history_days)
        self._seen = SeenJobs()

    def get(self, job_id: str) -> Job:
        """The job as stored now (a strongly consistent read); NotFoundError if there is none."""
        try:
            response = self.client.get_item(
                TableName=self.table_name, Key=job_key(job_id), ConsistentRead=True
            )
        except ClientError as error:
            raise self.aws_error(error, "read the job") from error
        if "Item" not in response:
            raise NotFoundError(f"There is no render job `{job_id}`: `/render list` shows recent jobs.")
        return self._seen_now(response["Item"])

    def _seen_now(self, item: dict[str, Any]) -> Job:
        """Remember the job item as read or written just now (a frame's record may prove it still holds and
        skip reading it again, `DynamoFrameLedger.record_frame`); the job it holds."""
        job_id = item["pk"]["S"].removeprefix("JOB#")
        self._seen.put(job_id, item)
        return job_from_item(item)

    def _last_seen(self, job_id: str) -> dict[str, Any] | None:
        """The job item as this process last read or counted it, if it still remembers it."""
        return self._seen.get(job_id)

    def _transition(
        self,
        job_id: str,
        update: str,
        values: dict[str, Any],
        condition: str,
        now: float | None = None,
        uses_status: bool = True,
    ) -> bool:
        """One conditional update of the job; True for the one caller whose condition held."""
        return self._write(job_id, update, values, condition, now, uses_status) is not None

    def _transition_to(
        self,
        job_id: str,
        update: str,
        values: dict[str, Any],
        condition: str,
        now: float | None = None,
        uses_status: bool = True,
    ) -> Job | None:
        """One conditional update of the job: the job as it wrote it (no read after), or None when the condition
        did not hold."""
        item = self._write(job_id, update, values, condition, now, uses_status, returning=True)
        return None if item is None else self._seen_now(item)

    def _write(
        self,
        job_id: str,
        update: str,
        values: dict[str, Any],
        condition: str,
        now: float | None,
        uses_status: bool,
        returning: bool = False,
    ) -> dict[str, Any] | None:
        """The conditional update itself: the item after it (empty unless `returning`); None when refused."""
        if ":now" in update or ":now" in condition:  # DynamoDB refuses a value the expressions do not use
            values = {**values, ":now": {"N": repr(self._clock() if now is None else now)}}
        try:
            response = self.client.update_item(
                TableName=self.table_name,
                Key=job_key(job_id),
                UpdateExpression=update,
                ConditionExpression=f"attribute_exists(pk) AND ({condition})",
                **({"ExpressionAttributeValues": values} if values else {}),
                **({"ExpressionAttributeNames": {"#status": "status"}} if uses_status else {}),
                **({"ReturnValues": "ALL_NEW"} if returning else {}),
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return None
            raise self.aws_error(error, "update the job") from error
        return dict(response.get("Attributes", {}))

    def _update(self, job_id: str, update: str, values: dict[str, Any], condition: str) -> Job:
        """An update that must find the job (NotFoundError otherwise): the job as it wrote it."""
        try:
            response = self.client.update_item(
                TableName=self.table_name,
                Key=job_key(job_id),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                raise NotFoundError(f"There is no render job `{job_id}`.") from error
            raise self.aws_error(error, "update the job") from error
        return job_from_item(response["Attributes"])

    def _batch_get(self, keys: list[dict[str, Any]], doing: str) -> list[dict[str, Any]]:
        """Every item of these keys that exists: 100 keys a call (BatchGetItem's limit), unprocessed ones again."""
        items: list[dict[str, Any]] = []
        for start in range(0, len(keys), 100):
            request = {self.table_name: {"Keys": keys[start : start + 100], "ConsistentRead": True}}
            while request:
                try:
                    response = self.client.batch_get_item(RequestItems=request)
                except ClientError as error:
                    raise self.aws_error(error, doing) from error
                items.extend(response["Responses"].get(self.table_name, []))
                request = response.get("UnprocessedKeys") or {}
        return items

    def _record_once(self, item: dict[str, Any], job_update: dict[str, Any], what: str, missing: str) -> bool:
        """Put a record that may exist only once and update its job in one transaction: True if this call wrote
        it, False if an earlier delivery did; NotFoundError(`missing`) when the job (in the state the update
        needs) is not there."""
        put = {"TableName": self.table_name, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}
        try:
            self.client.transact_write_items(TransactItems=[{"Put": put}, {"Update": job_update}])
        except ClientError as error:
            reasons = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
            if error_code(error) != "TransactionCanceledException" or not reasons:
                raise self.aws_error(error, f"record the {what}") from error
            if reasons[0] != "ConditionalCheckFailed":
                if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                    raise NotFoundError(missing) from error
                raise self.aws_error(error, f"record the {what}") from error
            return False
        return True
