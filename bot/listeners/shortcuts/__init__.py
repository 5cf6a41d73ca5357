"""Shortcuts."""

from __future__ import annotations

from slack_bolt import App

from bot.listeners.shortcuts.render_this_scene import open_render_modal


def register(app: App) -> None:
    app.shortcut("render_this_scene")(open_render_modal)
