"""What the bot asks of the composition root, as a port: the services its listeners and notifier use.

`entry.wiring.Services` satisfies it; the bot never imports the root (the root imports the bot), so the arrows point
one way. Each part is a read-only property: the root builds it on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from backend.config import Settings

if TYPE_CHECKING:
    from backend.aws.s3 import S3Store
    from backend.budgets.service import BudgetService
    from backend.events import EventPublisher
    from backend.render.announce import Announcer
    from backend.render.desk import JobDesk
    from backend.render.links import Links
    from backend.render.ports import JobStore
    from backend.render.store.roster import NodePresence
    from backend.render.submit import SubmissionService
    from backend.workstations.service import WorkstationService


class Services(Protocol):
    """The services of one process the bot uses (`entry.wiring.Services`)."""

    settings: Settings
    clock: Callable[[], float]

    @property
    def store(self) -> S3Store: ...
    @property
    def jobs(self) -> JobStore: ...
    @property
    def links(self) -> Links: ...
    @property
    def desk(self) -> JobDesk: ...
    @property
    def announcer(self) -> Announcer: ...
    @property
    def submissions(self) -> SubmissionService: ...
    @property
    def workstations(self) -> WorkstationService: ...
    @property
    def budgets(self) -> BudgetService: ...
    @property
    def roster(self) -> NodePresence: ...
    @property
    def events(self) -> EventPublisher: ...
