"""What the budget services talk to, declared once (events: `backend.events.EventPublisher`).

`backend.budgets.provider.AwsBudgets` is the `BudgetProvider`, `backend.budgets.guard.BudgetGuard` the `Guard`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # Slack's ack path imports the budget service: nothing here may load boto3
    from backend.budgets.guard import GuardState
    from backend.budgets.provider import Budget


class BudgetProvider(Protocol):
    """The account's budgets."""

    def all(self) -> list[Budget]: ...


class Guard(Protocol):
    """The budget guard: read it, turn it (True for the one caller that changed it)."""

    def state(self) -> GuardState: ...
    def turn(self, on: bool, by: str, reason: str = "") -> bool: ...
