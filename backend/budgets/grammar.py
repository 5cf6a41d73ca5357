"""The grammar of `/budget [status | guard on [WHY] | guard off | help]` in Slack and `studiobot budget …`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from backend.budgets.service import guard_refusal
from backend.commands import Caller, CommandGrammar, Help, Mistake, Reply, page_option
from backend.config import Settings
from backend.errors import ValidationError

BUDGET_USAGE = "`/budget status` · `/budget guard on [WHY]` · `/budget guard off` · `/budget help`"


@dataclass(frozen=True)
class BudgetCommand:
    """`/budget [status | guard on [WHY] | guard off | help]`, checked for form."""

    action: str
    on: bool = False
    reason: str = ""
    page: int = 1  # status: which page of the budgets


def parse_budget(words: Sequence[str]) -> BudgetCommand:
    """Parse the words after `/budget`; raise ValidationError with the usage."""
    if not words:
        return BudgetCommand("status")
    action, rest = words[0].lower(), list(words[1:])
    if action == "status" or action.startswith("--page"):  # `--page 2` alone pages the status too
        return BudgetCommand(
            "status", page=page_option(rest if action == "status" else words, "/budget status")
        )
    if action == "help":
        if rest:
            raise ValidationError(f"`/budget {action}` takes nothing more. Usage: {BUDGET_USAGE}.")
        return BudgetCommand(action)
    if action == "guard":
        if not rest or rest[0].lower() not in ("on", "off"):
            raise ValidationError(
                "Say `on` or `off`, e.g. `/budget guard on end of month` or `/budget guard off` "
                "(`/budget` shows whether it is on)."
            )
        on = rest[0].lower() == "on"
        if not on and len(rest) > 1:
            raise ValidationError("`/budget guard off` takes nothing more: try `/budget guard off`.")
        return BudgetCommand("guard", on, " ".join(rest[1:]))
    raise ValidationError(f"`{words[0]}` is not something `/budget` does. Usage: {BUDGET_USAGE}.")


class BudgetGrammar(CommandGrammar[BudgetCommand]):
    """`/budget`: help, and a guard change by someone who is not an admin, are answered at once."""

    def parse(self, words: Sequence[str], settings: Settings) -> BudgetCommand:
        return parse_budget(words)

    def at_once(self, command: BudgetCommand, caller: Caller, settings: Settings) -> Reply | None:
        if command.action == "help":
            return Help()
        refusal = guard_refusal(settings.access, caller.user) if command.action == "guard" else None
        return Mistake(refusal) if refusal else None
