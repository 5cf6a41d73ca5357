"""The "Render this scene" shortcut's modals: the form for a shared .blend, or a notice when there is none."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.messages import plain_text, section
from bot.messages.text import MODAL_TITLE, NAME_CHARS, clip, cut

WHOLE = "whole frames"  # no `--tiles`: the probes still re-plan a job whose frames would not fit
TILE_CHOICES = (WHOLE, "auto", "2x2", "4x4", "8x8")
SAVED_BY = "the one that saved it"  # no `--blender`: the shot's own version, or the nearest newer


def _input(
    block_id: str, label: str, placeholder: str, initial: str = "", optional: bool = False
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "value",
        "placeholder": plain_text(placeholder),
    }
    if initial:
        element["initial_value"] = initial
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": plain_text(label),
        "element": element,
    }


def _select(block_id: str, label: str, options: list[str], initial: str) -> dict[str, Any]:
    choices = [{"text": plain_text(option), "value": option} for option in options]
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain_text(label),
        "element": {
            "type": "static_select",
            "action_id": "value",
            "options": choices,
            "initial_option": next(choice for choice in choices if choice["value"] == initial),
        },
    }


def _metadata(file_id: str, file_name: str, channel: str) -> str:
    """Which Slack file, shared where: Slack's short ids, and the name for the messages only, cut to `NAME_CHARS`
    (the scene's key is made from the name Slack gives for the file), so it always fits Slack's 3,000 characters."""
    name = file_name if len(file_name) <= NAME_CHARS else file_name[: NAME_CHARS - 1] + "…"
    return json.dumps({"file": file_id, "name": name, "channel": channel}, ensure_ascii=False)


def render_modal(file_id: str, file_name: str, channel: str, blenders: Sequence[str] = ()) -> dict[str, Any]:
    """ "Render this scene": frames and settings for a .blend shared in a channel (`private_metadata` carries
    the file's id and name, and the channel); a choice of Blender where the farm runs several (`blenders`)."""
    versions = [_select("blender", "Blender", [SAVED_BY, *blenders], SAVED_BY)] if len(blenders) > 1 else []
    return {
        "type": "modal",
        "callback_id": "render_scene",
        "private_metadata": _metadata(file_id, file_name, channel),
        "title": plain_text("Render this scene"),
        "submit": plain_text("Render"),
        "close": plain_text("Cancel"),
        "blocks": [
            section(
                f"Render `{clip(file_name, NAME_CHARS)}` on the farm. The file is copied into the scenes bucket first."
            ),
            _input("frames", "Frames", "1-240, 1-240x2 or 1,5,10-20", "1-24"),
            _input("res", "Resolution", "1920x1080 (empty: the scene's)", optional=True),
            _input("samples", "Samples", "64 (empty: the scene's)", optional=True),
            _select("engine", "Engine", ["scene", "CYCLES", "BLENDER_WORKBENCH", "BLENDER_EEVEE"], "scene"),
            _select("format", "Format", ["PNG", "JPEG", "OPEN_EXR"], "PNG"),
            _select("tiles", "Tiles (split each frame across workers)", list(TILE_CHOICES), WHOLE),
            _select("on", "Render on", ["cpu", "gpu"], "cpu"),
            _select("priority", "Priority", ["normal", "urgent", "low"], "normal"),
            *versions,
        ],
    }


def notice_modal(title: str, text: str) -> dict[str, Any]:
    """A modal that only says something (e.g. there is no scene in that message): `text` is mrkdwn we built."""
    return {
        "type": "modal",
        "title": plain_text(cut(title, MODAL_TITLE)),
        "close": plain_text("OK"),
        "blocks": [section(text)],
    }
