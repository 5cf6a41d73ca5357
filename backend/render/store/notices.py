"""Bookkeeping for what is said about a job: the outbox of facts to announce, the throttle for progress events, and
one claim per notice (where the Slack card is, and when it changed, is the notifier's own: `bot.cards`).

The outbox: a transition writes `out_<fact>` and the `outbox` index key in the same conditional write that makes the
fact true; publishing removes the fact, and the index key goes once no fact is left. The sweep finds what stayed
pending. SNS delivers at least once, so every announcement is claimed by a conditional write before it is made, and
given back when it could not be made.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from backend.render.lifecycle import FACTS
from backend.render.records import FINAL, Job
from backend.render.store.items import OUTBOX, status_names, status_values
from backend.render.store.table import JobTable


class DynamoNoticeBook(JobTable):
    """Claims for the progress events and the notices, each won by one caller."""

    def claim_progress_report(self, job: Job, interval_s: float) -> bool:
        """True for at most one caller per interval per job: the throttle for JobProgress events."""
        return self._claim_interval(job.job_id, "progress_at", job.progress_at, interval_s)

    def claim_completion_notice(self, job_id: str) -> bool:
        """True for the one notifier that may announce the job's end (SNS delivers at least once)."""
        return self.claim_completion(job_id) is not None

    def claim_completion(self, job_id: str) -> Job | None:
        """The ended job, for the one notifier that may announce its end (the claim's write returns it: no read
        after); None for every other."""
        return self._transition_to(
            job_id,
            "SET notified_at = :now",
            status_values(FINAL),
            condition=f"attribute_not_exists(notified_at) AND #status IN ({status_names(FINAL)})",
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

    def _claim_interval(self, job_id: str, attribute: str, last: float | None, interval_s: float) -> bool:
        now = self._clock()
        if last is not None and last > now - interval_s:
            return False  # the record just read says it happened recently: no write needed
        # The job as written is remembered: the frames recorded next know it was just claimed (no write, no read).
        claimed = self._transition_to(
            job_id,
            f"SET {attribute} = :now",
            {":cutoff": {"N": repr(now - interval_s)}},
            condition=f"attribute_not_exists({attribute}) OR {attribute} <= :cutoff",
            now=now,
            uses_status=False,
        )
        return claimed is not None


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
