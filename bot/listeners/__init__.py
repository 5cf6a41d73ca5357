"""Slack listeners, registered on the app as in Bolt's starter template."""

from __future__ import annotations

from slack_bolt import App

from bot.listeners import actions, commands, events, shortcuts, views


def register(app: App) -> None:
    commands.register(app)
    actions.register(app)
    shortcuts.register(app)
    views.register(app)
    events.register(app)
