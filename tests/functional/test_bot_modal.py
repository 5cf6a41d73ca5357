""" "Render this scene": a .blend shared in Slack is rendered without touching S3 by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from backend.render.records import JobStatus
from testing.slack import dispatch_signed, interaction_body

from .conftest import ARTIST, CHANNEL, SECRET, Bot


def _shortcut(bot: Bot, files: list[dict[str, Any]]) -> None:
    payload = {
        "type": "message_action",
        "callback_id": "render_this_scene",
        "trigger_id": "t-shortcut",
        "user": {"id": ARTIST},
        "channel": {"id": CHANNEL},
        "team": {"id": "T0001"},
        "message": {"ts": "1700000000.000900", "text": "new layout", "files": files},
        "response_url": bot.slack.response_url("shortcut"),
    }
    assert dispatch_signed(bot.app, interaction_body(payload), SECRET).status == 200


def _submit(bot: Bot, view: dict[str, Any], values: dict[str, str]) -> Any:
    state = {
        block: {"value": {"type": "static_select", "selected_option": {"value": value}}}
        if block in ("engine", "format", "tiles", "on", "priority")
        else {"value": {"type": "plain_text_input", "value": value}}
        for block, value in values.items()
    }
    submitted = {**view, "id": "V0001", "state": {"values": state}}
    payload = {"type": "view_submission", "user": {"id": ARTIST}, "team": {"id": "T0001"}, "view": submitted}
    return dispatch_signed(bot.app, interaction_body(payload), SECRET)


def test_a_shared_blend_opens_the_modal_and_renders(bot: Bot) -> None:
    shared = bot.slack.host_file("F0SCENE", "layout_v3.blend", b"BLENDER-v500 pretend")
    _shortcut(bot, [shared])
    (opened,) = bot.slack.wait_for("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == "render_scene" and "layout_v3.blend" in view["blocks"][0]["text"]["text"]

    refused = _submit(
        bot, view, {"frames": "1-10x0", "res": "", "samples": "", "engine": "scene", "format": "PNG"}
    )
    assert json.loads(refused.body)["response_action"] == "errors"
    assert "step of 0" in json.loads(refused.body)["errors"]["frames"]
    refused = _submit(
        bot, view, {"frames": "1-4", "res": "big", "samples": "", "engine": "scene", "format": "PNG"}
    )
    assert "not a resolution" in json.loads(refused.body)["errors"]["res"]

    accepted = _submit(
        bot,
        view,
        {
            "frames": "1-4",
            "res": "64x36",
            "samples": "2",
            "engine": "CYCLES",
            "format": "PNG",
            "tiles": "2x2",
            "priority": "urgent",
        },
    )
    assert accepted.status == 200 and not accepted.body
    (card,) = bot.slack.wait_for("chat.postMessage")
    assert card.args["channel"] == CHANNEL
    assert "🔺 urgent" in json.dumps(card.args, ensure_ascii=False)  # its priority, on the card
    key = "scenes/slack/F0SCENE/layout_v3.blend"
    stored = bot.stack.s3.get_object(Bucket=bot.stack.settings.scenes_bucket, Key=key)["Body"].read()
    assert stored == b"BLENDER-v500 pretend"
    (job,) = bot.stack.jobs.recent(CHANNEL)
    assert (job.scene_key, job.total, job.status) == (key, 4, JobStatus.QUEUED)
    assert job.settings.resolution == (64, 36) and job.settings.samples == 2
    assert job.settings.tiles == (2, 2) and job.task_count == 16  # each frame as its four tiles


def test_a_message_without_a_scene_says_so(bot: Bot) -> None:
    _shortcut(bot, [{"id": "F0PIC", "name": "ref.png"}])
    (opened,) = bot.slack.wait_for("views.open")
    assert "has no `.blend` file" in opened.args["view"]["blocks"][0]["text"]["text"]


def test_a_shared_blend_whose_textures_did_not_travel_is_refused_in_a_dm(bot: Bot, shots: Path) -> None:
    # the artist's shot, shared alone: its texture is left behind on their disk
    blend = (shots / "textured" / "shot.blend").read_bytes()  # uses //textures/wood.png, not packed
    shared = bot.slack.host_file("F0SHOT", "shot.blend", blend)
    _shortcut(bot, [shared])
    (opened,) = bot.slack.wait_for("views.open")
    values = {"frames": "1-4", "res": "", "samples": "", "engine": "scene", "format": "PNG"}
    assert _submit(bot, opened.args["view"], values).status == 200
    (dm,) = bot.slack.wait_for("chat.postMessage")
    assert dm.args["channel"] == ARTIST
    assert (
        "⚠️ Could not render `shot.blend`: `shot.blend` needs file that is not there: image wood.png uses "
        in (dm.args["text"])
    )
    assert "`//textures/wood.png`: not found next to `shot.blend`" in dm.args["text"]
    assert bot.stack.jobs.recent(CHANNEL) == [] and bot.stack.queued_bodies() == []
    listing = bot.stack.s3.list_objects_v2(Bucket=bot.stack.settings.scenes_bucket)
    assert listing.get("KeyCount", 0) == 0  # nothing stored
