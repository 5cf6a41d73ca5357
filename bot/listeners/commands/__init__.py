"""Slash commands: each one a `SlashCommand` (`bot.listeners.commands.slash`) over its domain's grammar and desk."""

from __future__ import annotations

from slack_bolt import App

from bot.listeners.commands.budget import BUDGET
from bot.listeners.commands.render import RENDER
from bot.listeners.commands.workstations import WORKSTATIONS


def register(app: App) -> None:
    for command in (RENDER, WORKSTATIONS, BUDGET):
        command.register(app)
