"""Slash commands."""

from __future__ import annotations

from slack_bolt import App

from bot.listeners.commands.render import ack_render, run_render


def register(app: App) -> None:
    app.command("/render")(ack=ack_render, lazy=[run_render])
