"""Message shortcut "Render this scene" on a message carrying a .blend: open the render modal."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from backend.config import Settings
from bot.messages.render_modal import notice_modal, render_modal
from bot.messages.text import sentence


def open_render_modal(ack: Ack, shortcut: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """The modal must open within 3 s of the click (its trigger expires), so this runs on the ack path."""
    ack()
    settings: Settings = context["settings"]
    user = shortcut["user"]["id"]
    channel = (shortcut.get("channel") or {}).get("id", "")
    refusal = settings.access.refusal(user, channel)
    scenes = [
        f for f in (shortcut.get("message") or {}).get("files", []) if f.get("name", "").endswith(".blend")
    ]
    if refusal:
        view = notice_modal("studiobot", sentence(refusal))
    elif not scenes:
        view = notice_modal(
            "No scene here",
            "That message has no `.blend` file: use the shortcut on the message that shares one.",
        )
    else:
        view = render_modal(scenes[0]["id"], scenes[0]["name"], channel, settings.lanes.blenders)
    client.views_open(trigger_id=shortcut["trigger_id"], view=view)
