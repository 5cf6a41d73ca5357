"""Only our workspace and our app, and one set of access rules for commands, buttons, shortcuts and modals (issue 21,
item 6): requests signed with our secret but naming another `team_id` or `api_app_id` are a 401 before any listener."""

from __future__ import annotations

import http.client
import json
import time
from dataclasses import replace
from typing import Any

from slack_bolt import App
from slack_bolt.request import BoltRequest

from backend.config import Access, SlackCredentials
from bot.app import build_app
from local.embedded.slack_http import PATH, BotServer
from testing.slack import dispatch_signed, interaction_body, signed_headers, slash_command_body

from .conftest import ADMIN, ARTIST, CHANNEL, OTHER, SECRET, Bot

ELSEWHERE = "C0ELSEWHERE"


def _nothing_ran(bot: Bot) -> None:
    time.sleep(0.3)  # a lazy listener would have started by now
    assert bot.slack.calls == [] and bot.stack.jobs.recent(CHANNEL) == []


def _with_access(bot: Bot, access: Access) -> App:
    settings = replace(bot.services.settings, access=access)
    return build_app(
        settings, SlackCredentials("xoxb-test", SECRET), client=bot.app.client, services=bot.services
    )


def _job(bot: Bot) -> str:
    bot.stack.put_scene()
    bot.command("shot.blend 1-4", trigger="t-first")
    bot.slack.wait_for("chat.postMessage")
    (job,) = bot.stack.jobs.recent(CHANNEL)
    bot.stack.s3.put_object(Bucket=job.output_bucket, Key=f"{job.output_prefix}frame_0001.png", Body=b"png")
    return job.job_id


def test_a_request_from_another_workspace_is_401_and_no_listener_runs(bot: Bot) -> None:
    bot.stack.put_scene()
    for text in ("help", "shot.blend 1-4"):
        body = slash_command_body(
            text, user_id=ADMIN, team_id="T0OTHER", response_url=bot.slack.response_url()
        )
        response = dispatch_signed(bot.app, body, SECRET)
        assert response.status == 401 and "render" not in response.body.lower()
    _nothing_ran(bot)


def test_a_request_for_another_app_is_401(bot: Bot) -> None:
    body = slash_command_body(
        "shot.blend 1-4", api_app_id="A0SOMEONEELSE", response_url=bot.slack.response_url()
    )
    assert dispatch_signed(bot.app, body, SECRET).status == 401
    _nothing_ran(bot)


def test_a_button_from_another_workspace_or_over_socket_mode_is_401(bot: Bot) -> None:
    payload = {
        "type": "block_actions",
        "user": {"id": ADMIN},
        "team": {"id": "T0OTHER"},
        "channel": {"id": CHANNEL},
        "response_url": bot.slack.response_url("click"),
        "actions": [{"action_id": "job_cancel", "value": "r123456789", "type": "button", "block_id": "b"}],
    }
    assert dispatch_signed(bot.app, interaction_body(payload), SECRET).status == 401
    socket = BoltRequest(body=slash_command_body("help", team_id="T0OTHER"), mode="socket_mode")
    assert bot.app.dispatch(socket).status == 401
    _nothing_ran(bot)


def test_the_local_http_server_refuses_another_workspace(bot: Bot) -> None:
    server = BotServer(bot.app, port=0, signing_secret=SECRET).start()
    host, port = server.server.server_address[:2]
    try:
        statuses = []
        for team in ("T0OTHER", "T0001"):
            body = slash_command_body("help", team_id=team)
            connection = http.client.HTTPConnection(str(host), port, timeout=10)
            connection.request("POST", PATH, body=body.encode(), headers=signed_headers(body, SECRET))
            statuses.append(connection.getresponse().status)
            connection.close()
        assert statuses == [401, 200]
    finally:
        server.stop()


def test_a_person_not_on_the_list_pressing_a_job_button_is_refused_without_links(bot: Bot) -> None:
    job_id = _job(bot)
    app = _with_access(bot, Access(allowed_users=frozenset({ARTIST}), admins=frozenset({ADMIN})))
    bot.app = app
    bot.click("job_outputs", job_id, user=OTHER)
    (reply,) = bot.replies()
    assert "not on studiobot's list of users" in reply["text"] and "http" not in reply["text"]


def test_a_job_button_pressed_in_another_channel_is_refused(bot: Bot) -> None:
    job_id = _job(bot)
    bot.click("job_outputs", job_id, channel=ELSEWHERE)
    bot.click("job_cancel", job_id, channel=ELSEWHERE)
    replies = bot.replies(2)
    assert all(f"`{job_id}` belongs to <#{CHANNEL}>" in reply["text"] for reply in replies)
    assert all("http" not in reply["text"] for reply in replies)
    assert str(bot.stack.jobs.get(job_id).status) == "queued"


def test_a_job_button_in_a_channel_off_the_list_is_refused(bot: Bot) -> None:
    job_id = _job(bot)
    bot.app = _with_access(bot, Access(allowed_channels=frozenset({ELSEWHERE})))
    bot.click("job_outputs", job_id)
    (reply,) = bot.replies()
    assert "does not take commands in this channel" in reply["text"] and "http" not in reply["text"]


def test_status_of_a_job_is_shown_only_in_its_own_channel_or_to_an_admin(bot: Bot) -> None:
    job_id = _job(bot)
    body = slash_command_body(
        f"status {job_id}", channel_id=ELSEWHERE, response_url=bot.slack.response_url("elsewhere")
    )
    dispatch_signed(bot.app, body, SECRET)
    (refused,) = bot.slack.wait_for("response_url")
    assert f"`{job_id}` belongs to <#{CHANNEL}>" in refused.args["text"] and "1-4" not in refused.args["text"]
    admin = slash_command_body(
        f"status {job_id}", user_id=ADMIN, channel_id=ELSEWHERE, response_url=bot.slack.response_url("admin")
    )
    dispatch_signed(bot.app, admin, SECRET)
    shown = bot.slack.wait_for("response_url", 2)[1]
    assert job_id in shown.args["text"] and "belongs to" not in shown.args["text"]


def _view_submission(bot: Bot, view: dict[str, Any], user: str = ARTIST) -> Any:
    payload = {"type": "view_submission", "user": {"id": user}, "team": {"id": "T0001"}, "view": view}
    return dispatch_signed(bot.app, interaction_body(payload), SECRET)


def test_a_view_submission_without_a_view_type_is_400(bot: Bot) -> None:
    view = {"id": "V0001", "callback_id": "render_scene", "state": {"values": {}}}
    assert _view_submission(bot, view).status == 400
    assert _view_submission(bot, {"id": "V0001"}).status == 400
    payload = {"type": "view_submission", "user": {"id": ARTIST}, "team": {"id": "T0001"}}
    assert dispatch_signed(bot.app, interaction_body(payload), SECRET).status == 400
    _nothing_ran(bot)


def test_a_modal_submitted_by_someone_off_the_list_is_refused_in_the_modal(bot: Bot) -> None:
    bot.app = _with_access(bot, Access(allowed_users=frozenset({ARTIST})))
    metadata = {"file": "F0SCENE", "name": "layout.blend", "channel": CHANNEL}
    values = {"frames": {"value": {"type": "plain_text_input", "value": "1-4"}}}
    view = {
        "id": "V0001",
        "type": "modal",
        "callback_id": "render_scene",
        "private_metadata": json.dumps(metadata),
        "state": {"values": values},
    }
    answer = _view_submission(bot, view, user=OTHER)
    assert answer.status == 200
    assert "not on studiobot's list of users" in json.loads(answer.body)["errors"]["frames"]
    _nothing_ran(bot)


def test_a_mention_typed_into_a_command_comes_back_escaped(bot: Bot) -> None:
    bot.command("<@U0ADMIN>.blend 1-4 --assets <!channel>")
    (reply,) = bot.replies()
    assert "<@U0ADMIN>" not in reply["text"] and "&lt;@U0ADMIN&gt;" in reply["text"]


def test_a_workstation_button_pressed_by_someone_off_the_list_is_refused(bot: Bot) -> None:
    bot.app = _with_access(bot, Access(allowed_users=frozenset({ARTIST})))
    payload = {
        "type": "block_actions",
        "user": {"id": OTHER},
        "channel": {"id": "D0OWNERDM"},
        "team": {"id": "T0001"},
        "response_url": bot.slack.response_url("ws"),
        "actions": [{"action_id": "ws_stop", "value": "anim-01", "type": "button", "block_id": "ws:anim-01"}],
    }
    assert dispatch_signed(bot.app, interaction_body(payload), SECRET).status == 200
    (reply,) = bot.replies()
    assert "not on studiobot's list of users" in reply["text"]
    assert [call.method for call in bot.slack.calls] == ["response_url"]


def test_unset_pins_are_named_in_the_one_line_said_at_start() -> None:
    from bot.identity import unpinned

    assert unpinned("T0001", "A0STUDIOBOT") is None
    said = unpinned("", "A0STUDIOBOT")
    assert said is not None and "STUDIOBOT_SLACK_TEAM_ID not set" in said and "APP_ID" not in said
