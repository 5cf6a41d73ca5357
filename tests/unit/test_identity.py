"""What `bot.identity` reads from a payload: the workspaces it names, and what Bolt would index without looking."""

from __future__ import annotations

from bot.identity import teams_named, unreadable


def test_every_workspace_a_payload_names_is_compared() -> None:
    assert teams_named({"team_id": "T1"}) == {"T1"}
    assert teams_named({"team": {"id": "T1"}, "view": {"app_installed_team_id": "T2"}}) == {"T1", "T2"}
    assert teams_named({"team": "T1"}) == set()  # no workspace named: not ours


def test_payloads_bolt_would_index_blindly_are_named() -> None:
    user = {"user": {"id": "U1"}}
    view = {"id": "V1", "type": "modal", "callback_id": "render_scene", "state": {"values": {}}}
    assert unreadable({"type": "view_submission", **user, "view": view}) is None
    assert unreadable({"type": "view_submission", **user, "view": {**view, "type": None}}) == "view.type"
    assert unreadable({"type": "view_submission", **user, "view": "V1"}) == "view"
    assert unreadable({"type": "view_submission", "view": view}) == "user.id"
    assert unreadable({"type": "block_actions", **user, "actions": []}) == "actions"
    assert unreadable({"type": "event_callback", "event": {}}) == "event.type"
    assert unreadable({"command": "/render", "text": "help"}) is None
