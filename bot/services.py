"""The backend services listeners call, built on first use so the ack path never imports boto3."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

from backend.config import Settings

if TYPE_CHECKING:
    from backend.aws.s3 import S3Store
    from backend.aws.sns import SnsPublisher
    from backend.budgets.guard import BudgetGuard
    from backend.budgets.service import BudgetService
    from backend.render.fanout import Fanout
    from backend.render.progress import JobReporter
    from backend.render.store import DynamoJobs
    from backend.render.submit import SubmissionService
    from backend.workstations.service import WorkstationService

RESEND_WINDOW_S = 120


class Services:
    """One per app; each service is created the first time a lazy listener needs it."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock

    def __deepcopy__(self, memo: dict[int, object]) -> Services:
        # Bolt deep-copies the context for each lazy listener: the services (and their AWS clients, which are
        # thread-safe) are shared, not copied per request.
        return self

    @cached_property
    def store(self) -> S3Store:
        from backend.aws.s3 import S3Store

        return S3Store()

    @cached_property
    def jobs(self) -> DynamoJobs:
        from backend.render.store import DynamoJobs

        return DynamoJobs(self.settings.table_name)

    @cached_property
    def events(self) -> SnsPublisher:
        from backend.aws.sns import SnsPublisher

        return SnsPublisher(self.settings.events_topic_arn)

    @cached_property
    def reporter(self) -> JobReporter:
        from backend.render.fanout import job_reporter

        return job_reporter(self.settings, self.jobs, self.events)

    @cached_property
    def guard(self) -> BudgetGuard:
        from backend.budgets.guard import BudgetGuard

        return BudgetGuard(self.settings.table_name, clock=self.clock)

    @cached_property
    def fanout(self) -> Fanout:
        from backend.aws.sqs import SqsQueue
        from backend.render.fanout import Fanout

        queue = SqsQueue(self.settings.render_queue_url)
        return Fanout(self.jobs, queue, self.settings, events=self.events, guard=self.guard, clock=self.clock)

    @cached_property
    def submissions(self) -> SubmissionService:
        from backend.aws.sqs import SqsQueue
        from backend.render.submit import SubmissionService

        return SubmissionService(
            self.store,
            self.jobs,
            SqsQueue(self.settings.render_queue_url),
            self.settings,
            clock=self.clock,
            guard=self.guard,
        )

    @cached_property
    def workstations(self) -> WorkstationService:
        from backend.workstations.ec2 import Ec2Workstations
        from backend.workstations.leases import DynamoLeases
        from backend.workstations.service import WorkstationService

        return WorkstationService(
            Ec2Workstations(),
            DynamoLeases(self.settings.table_name, clock=self.clock),
            self.events,
            self.settings.access,
            clock=self.clock,
        )

    @cached_property
    def budgets(self) -> BudgetService:
        from backend.budgets.provider import AwsBudgets
        from backend.budgets.service import BudgetService

        return BudgetService(AwsBudgets(), self.guard, self.events, self.settings.access)


def resend_tokens(user_id: str, channel_id: str, text: str, now: float) -> tuple[str, str]:
    """Client tokens for this window and the one before: the same command re-sent within minutes is one job."""
    window = int(now // RESEND_WINDOW_S)
    normalized = " ".join(text.split())
    return tuple(  # type: ignore[return-value]
        hashlib.sha256(f"slack|{user_id}|{channel_id}|{normalized}|{w}".encode()).hexdigest()
        for w in (window, window - 1)
    )
