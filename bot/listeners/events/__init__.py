"""Slack events the bot listens to: a person opening its Home tab."""

from __future__ import annotations

from slack_bolt import App

from bot.listeners.events.home import ack_event, home_opened


def register(app: App) -> None:
    app.event("app_home_opened")(ack=ack_event, lazy=[home_opened])
