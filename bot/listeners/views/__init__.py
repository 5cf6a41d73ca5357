"""Modal submissions."""

from __future__ import annotations

from slack_bolt import App

from bot.listeners.views.render_scene import ack_render_scene, submit_render_scene


def register(app: App) -> None:
    app.view("render_scene")(ack=ack_render_scene, lazy=[submit_render_scene])
