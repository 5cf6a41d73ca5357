"""The job store in DynamoDB: transitions, frame and tile records, queries, notice bookkeeping and the outbox on one table."""

from __future__ import annotations

from backend.render.store.frames import DynamoFrameLedger
from backend.render.store.notices import DynamoNoticeBook, DynamoOutbox
from backend.render.store.queries import DynamoJobQueries
from backend.render.store.tiles import DynamoTileLedger
from backend.render.store.transitions import ENQUEUE_LEASE_S, DynamoTransitions

__all__ = ["ENQUEUE_LEASE_S", "DynamoJobs"]


class DynamoJobs(
    DynamoTransitions, DynamoFrameLedger, DynamoTileLedger, DynamoJobQueries, DynamoNoticeBook, DynamoOutbox
):
    """Every part of the job store on one table: it satisfies `backend.render.ports.JobStore`."""
