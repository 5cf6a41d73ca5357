"""Slash commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext

from backend.config import Settings
from bot.listeners.commands import budget, render, workstations
from bot.messages import Blocks

ImmediateAnswer = Callable[[dict[str, Any], Settings], tuple[str, Blocks] | None]


def answered_in_ack(app: App, command: str, immediate_answer: ImmediateAnswer) -> None:
    """Commands the ack answers completely (help, a refusal, a mistake) match here first: they start no lazy
    listener, so on Lambda they cause no self-invoke."""

    def answered(command: dict[str, Any], context: BoltContext) -> bool:
        return immediate_answer(command, context["settings"]) is not None

    def ack_only(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
        answer = immediate_answer(command, context["settings"])
        assert answer is not None  # the matcher said so
        ack(text=answer[0], blocks=answer[1], response_type="ephemeral")

    app.command(command, matchers=[answered])(ack_only)


def register(app: App) -> None:
    # First match wins, so each command's ack-answered listener is registered before its working one.
    answered_in_ack(app, "/render", render.immediate_answer)
    app.command("/render")(ack=render.ack_render, lazy=[render.run_render])
    answered_in_ack(app, "/workstations", workstations.immediate_answer)
    app.command("/workstations")(ack=workstations.ack_workstations, lazy=[workstations.run_workstations])
    answered_in_ack(app, "/budget", budget.immediate_answer)
    app.command("/budget")(ack=budget.ack_budget, lazy=[budget.run_budget])
