"""Bookkeeping for what is said about a job: the throttle for progress events, and one claim per notice (where the
Slack card is, and when it changed, is the notifier's own: `bot.cards`).

SNS delivers at least once, so every announcement is claimed by a conditional write before it is made, and given
back when it could not be made.
"""

from __future__ import annotations

from backend.render.records import FINAL, Job
from backend.render.store.items import status_names, status_values
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
        return self._transition(
            job_id,
            f"SET {attribute} = :now",
            {":cutoff": {"N": repr(now - interval_s)}},
            condition=f"attribute_not_exists({attribute}) OR {attribute} <= :cutoff",
            now=now,
            uses_status=False,
        )
