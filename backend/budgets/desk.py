"""`/budget` and `studiobot budget`: `parse → run → Reply`, the same for Slack and the terminal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from backend.budgets.grammar import BudgetCommand
from backend.commands import Caller, Help, Reply

if TYPE_CHECKING:
    from backend.budgets.service import BudgetStatus


class Budgets(Protocol):
    """What the desk asks of the budget service."""

    def status(self) -> BudgetStatus: ...
    def turn_guard(self, on: bool, user: str, reason: str = "") -> None: ...


@dataclass(frozen=True)
class BudgetsShown(Reply):
    """One page of the account's budgets, and the guard."""

    status: BudgetStatus
    page: int


@dataclass(frozen=True)
class GuardTurned(Reply):
    """The budget guard was turned on or off."""

    on: bool


class BudgetDesk:
    """Carries out `/budget` commands."""

    def __init__(self, service: Budgets) -> None:
        self.service = service

    def run(self, command: BudgetCommand, caller: Caller) -> Reply:
        """What the command does, as a Reply."""
        if command.action == "help":
            return Help()
        if command.action == "status":
            return BudgetsShown(self.service.status(), command.page)
        self.service.turn_guard(command.on, caller.user, command.reason)
        return GuardTurned(command.on)
