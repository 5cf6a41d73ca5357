"""Slash commands: each one a `SlashCommand` (`bot.listeners.commands.slash`) over its domain's grammar and desk."""

from __future__ import annotations

from slack_bolt import App

from bot.listeners.commands.budget import BUDGET
from bot.listeners.commands.render import RENDER
from bot.listeners.commands.workstations import WORKSTATIONS


def register(app: App) -> None:
    # Each command's ack-answered listener is registered before its working one: the first match wins.
    RENDER.register(app, app.command("/render"))
    WORKSTATIONS.register(app, app.command("/workstations"))
    BUDGET.register(app, app.command("/budget"))
