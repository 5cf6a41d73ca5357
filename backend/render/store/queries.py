"""Reading jobs: a channel's recent ones, a class's active ones, and the ones waiting too long for Submit (one by id
is the table's)."""

from __future__ import annotations

from botocore.exceptions import ClientError

from backend.render.records import Job
from backend.render.store.items import ACTIVE_ATTRIBUTE, AWAITING, job_from_item
from backend.render.store.table import JobTable


class DynamoJobQueries(JobTable):
    """Reads job items (strongly consistent where a decision follows)."""

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
            raise self.aws_error(error, "list the channel's jobs") from error
        return [job_from_item(item) for item in response["Items"]]

    def active_jobs(self, render_class: str) -> list[Job]:
        """The class's jobs not yet over, oldest first: the sparse by_active index, paginated (never a scan)."""
        jobs: list[Job] = []
        try:
            for page in self.client.get_paginator("query").paginate(
                TableName=self.table_name,
                IndexName="by_active",
                KeyConditionExpression="#active = :class",
                ExpressionAttributeNames={"#active": ACTIVE_ATTRIBUTE},
                ExpressionAttributeValues={":class": {"S": render_class}},
            ):
                jobs.extend(job_from_item(item) for item in page["Items"])
        except ClientError as error:
            raise self.aws_error(error, "read the jobs in the queue") from error
        return jobs

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
            raise self.aws_error(error, "list the jobs waiting for Submit") from error
        return ids

    def month_jobs(self, month: str) -> list[Job]:
        """The jobs created in `month` (`2026-12`, UTC), oldest first: the by_month index, paginated."""
        jobs: list[Job] = []
        try:
            for page in self.client.get_paginator("query").paginate(
                TableName=self.table_name,
                IndexName="by_month",
                KeyConditionExpression="#month = :month",
                ExpressionAttributeNames={"#month": "month"},
                ExpressionAttributeValues={":month": {"S": month}},
            ):
                jobs.extend(job_from_item(item) for item in page["Items"])
        except ClientError as error:
            raise self.aws_error(error, "read the month's jobs") from error
        return jobs
