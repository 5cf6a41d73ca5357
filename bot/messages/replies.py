"""A desk's Reply (`backend.commands`) as a Slack message: the replies every command shares, and those of
`/workstations` and `/budget` (`/render`'s are in `bot.messages.render_replies`)."""

from __future__ import annotations

from collections.abc import Callable

from backend.budgets.desk import BudgetsShown, GuardTurned
from backend.commands import Help, Mistake, Refused, Reply, Said
from backend.workstations.desk import WorkstationChanged, WorkstationsShown
from bot.messages import Blocks, error_message, said, section
from bot.messages.budgets import budget_help, budget_status, guard_turned_text
from bot.messages.text import sentence
from bot.messages.workstations import WORKSTATIONS_HELP, change_text, workstations_table

Message = tuple[str, Blocks | None]  # its text, and its blocks (None: the text alone)


def shared_message(reply: Reply, help_message: Callable[[], tuple[str, Blocks]]) -> Message:
    """The replies every command may give: a sentence of ours, a mistake, a refusal, its help."""
    if isinstance(reply, Said):
        return said(reply.text)
    if isinstance(reply, Mistake):
        return error_message(reply.text)
    if isinstance(reply, Refused):  # said plainly: a refusal, not a mistake
        return sentence(reply.text), None
    if isinstance(reply, Help):
        return help_message()
    raise TypeError(f"no message for {type(reply).__name__}")


def workstations_message(reply: Reply) -> tuple[str, Blocks]:
    """`/workstations`' reply as a message."""
    if isinstance(reply, WorkstationsShown):
        return workstations_table(reply.rows, reply.page)
    if isinstance(reply, WorkstationChanged):
        text = change_text(reply.change)
        return text, [section(text)]
    text, blocks = shared_message(reply, lambda: (WORKSTATIONS_HELP, [section(WORKSTATIONS_HELP)]))
    return text, blocks or [section(text)]


def budget_message(reply: Reply) -> tuple[str, Blocks]:
    """`/budget`'s reply as a message."""
    if isinstance(reply, BudgetsShown):
        return budget_status(reply.status, reply.page)
    if isinstance(reply, GuardTurned):
        text = guard_turned_text(reply.on)
        return text, [section(text)]
    text, blocks = shared_message(reply, budget_help)
    return text, blocks or [section(text)]
