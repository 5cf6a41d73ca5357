"""The outbox: what a transition recorded as to be announced, until it is published (one fact at a time).

A transition writes `out_<fact>` and the `outbox` index key in the same conditional write that makes the fact true;
publishing removes the fact, and the index key goes once no fact is left. The sweep finds what stayed pending.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from backend.render.lifecycle import FACTS
from backend.render.store.items import OUTBOX
from backend.render.store.table import JobTable


class DynamoOutbox(JobTable):
    """Facts waiting to be published, per job, and the jobs holding any (the sparse `by_outbox` index)."""

    def mark_published(self, job_id: str, fact: str) -> bool:
        """Take a published fact out of the job's outbox; True for the one caller that did."""
        assert fact in FACTS
        others = " AND ".join(f"attribute_not_exists(out_{other})" for other in FACTS if other != fact)
        # The usual case, in one write: the last fact pending goes, and the job leaves the index with it.
        if self._transition(
            job_id,
            f"REMOVE out_{fact}, outbox, outbox_at",
            {},
            condition=f"attribute_exists(out_{fact}) AND {others}",
            uses_status=False,
        ):
            return True
        taken = self._transition(
            job_id, f"REMOVE out_{fact}", {}, condition=f"attribute_exists(out_{fact})", uses_status=False
        )
        nothing_left = " AND ".join(f"attribute_not_exists(out_{other})" for other in FACTS)
        # A second write: the job leaves the index once nothing is left (a crash here leaves it for the sweep).
        self._transition(job_id, "REMOVE outbox, outbox_at", {}, condition=nothing_left, uses_status=False)
        return taken

    def pending_before(self, cutoff: float) -> list[str]:
        """Ids of the jobs with a fact pending since before `cutoff`, oldest first."""
        ids: list[str] = []
        try:
            for page in self.client.get_paginator("query").paginate(
                TableName=self.table_name,
                IndexName="by_outbox",
                KeyConditionExpression="outbox = :pending AND outbox_at <= :cutoff",
                ExpressionAttributeValues={":pending": {"S": OUTBOX}, ":cutoff": {"N": repr(cutoff)}},
            ):
                ids.extend(item["pk"]["S"].removeprefix("JOB#") for item in page["Items"])
        except ClientError as error:
            raise self.aws_error(error, "list the announcements left pending") from error
        return ids
