"""Slash commands."""

from __future__ import annotations

from slack_bolt import App

from bot.listeners.commands import workstations
from bot.listeners.commands.render import ack_only, ack_render, answered_by_ack, run_render


def register(app: App) -> None:
    # First match wins: commands the ack answers completely never start a lazy listener.
    app.command("/render", matchers=[answered_by_ack])(ack_only)
    app.command("/render")(ack=ack_render, lazy=[run_render])
    app.command("/workstations", matchers=[workstations.answered_by_ack])(workstations.ack_only)
    app.command("/workstations")(ack=workstations.ack_workstations, lazy=[workstations.run_workstations])
