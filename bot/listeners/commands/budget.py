"""`/budget`: the ack answers help, mistakes and refusals; the status and guard changes run in a lazy listener."""

from __future__ import annotations

from backend.budgets.desk import BudgetDesk
from backend.budgets.grammar import BudgetCommand, BudgetGrammar
from backend.commands import Caller
from bot.listeners.commands.slash import SlashCommand
from bot.messages import Blocks
from bot.messages.replies import budget_message
from bot.services import Services


def _desk(services: Services) -> BudgetDesk:
    return BudgetDesk(services.budgets)


BUDGET = SlashCommand[BudgetCommand](
    "/budget", BudgetGrammar(), _desk, lambda reply, settings: budget_message(reply)
)
immediate_answer = BUDGET.immediate_answer


def run(services: Services, parsed: BudgetCommand, user: str) -> tuple[str, Blocks]:
    """Carry out a parsed command; the answer as text and blocks."""
    return budget_message(_desk(services).run(parsed, Caller(user, "")))
