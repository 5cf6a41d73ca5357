"""`/budget`: the ack answers help, mistakes and refusals; the status and guard changes run in a lazy listener."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from backend.budgets.grammar import BudgetCommand, parse_budget
from backend.budgets.service import guard_refusal
from backend.commands import split_words
from backend.config import Settings
from backend.errors import StudiobotError
from bot.messages import Blocks, error_message, section
from bot.messages.budgets import budget_help, budget_status, guard_turned_text
from bot.polite import polite
from bot.services import Services


def immediate_answer(command: dict[str, Any], settings: Settings) -> tuple[str, Blocks] | None:
    """The whole answer when the ack can give it (help, a refusal, a mistake); None when there is work."""
    refusal = settings.access.refusal(command["user_id"], command["channel_id"])
    if refusal:
        return error_message(refusal)
    try:
        parsed = parse_budget(split_words(command.get("text", "")))
    except StudiobotError as error:
        return error_message(str(error))
    if parsed.action == "help":
        return budget_help()
    if parsed.action == "guard":
        refusal = guard_refusal(settings.access, command["user_id"])
        if refusal:
            return error_message(refusal)
    return None


def ack_budget(ack: Ack) -> None:
    ack()


def run(services: Services, parsed: BudgetCommand, user: str) -> tuple[str, Blocks]:
    """Carry out a parsed command; the answer as text and blocks (shared by Slack and the CLI)."""
    service = services.budgets
    if parsed.action == "status":
        return budget_status(service.status(), parsed.page)
    service.turn_guard(parsed.on, user, parsed.reason)
    text = guard_turned_text(parsed.on)
    return text, [section(text)]


@polite
def run_budget(respond: Respond, command: dict[str, Any], context: BoltContext) -> None:
    parsed = parse_budget(split_words(command.get("text", "")))
    text, answer = run(context["services"], parsed, command["user_id"])
    respond(text=text, blocks=answer, response_type="ephemeral")
