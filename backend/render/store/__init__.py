"""The job store in DynamoDB: transitions, frame records, queries and notice bookkeeping on one table."""

from __future__ import annotations

from backend.render.records import ACTIVE, FrameOutcome, FrameRecord, Job, JobStatus, Recorded, job_id_for
from backend.render.store.frames import FrameLedger
from backend.render.store.notices import NoticeBook
from backend.render.store.queries import JobQueries
from backend.render.store.transitions import ENQUEUE_LEASE_S, JobTransitions

__all__ = [
    "ACTIVE",
    "ENQUEUE_LEASE_S",
    "DynamoJobs",
    "FrameOutcome",
    "FrameRecord",
    "Job",
    "JobStatus",
    "Recorded",
    "job_id_for",
]


class DynamoJobs(JobTransitions, FrameLedger, JobQueries, NoticeBook):
    """Every part of the job store on one table: it satisfies `backend.render.ports.JobStore`."""
