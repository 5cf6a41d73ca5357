"""The loopback fake Slack answers the real `slack_sdk` and `slack_bolt` clients the way Slack does."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from testing.slack import FakeSlack, dispatch_signed, interaction_body, slash_command_body

TOKEN = "xoxb-test"
SIGNING_SECRET = "s3cr3t"


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def client(fake_slack: FakeSlack) -> WebClient:
    return WebClient(token=TOKEN, base_url=fake_slack.base_url)


def test_base_url_is_loopback_only(fake_slack: FakeSlack) -> None:
    assert fake_slack.base_url.startswith("http://127.0.0.1:")
    assert fake_slack.base_url.endswith("/api/")


def test_post_message_then_update_are_recorded_with_their_arguments(
    fake_slack: FakeSlack, client: WebClient
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Queued* 1-240"}}]

    posted = client.chat_postMessage(channel="C0RENDERS", text="Queued", blocks=blocks, thread_ts="1.000001")
    client.chat_update(channel="C0RENDERS", ts=posted["ts"], text="Rendering 12/240")

    (post,) = fake_slack.calls_to("chat.postMessage")
    assert post.args["channel"] == "C0RENDERS"
    assert post.args["blocks"] == blocks
    assert post.headers["authorization"] == f"Bearer {TOKEN}"
    assert posted["message"]["thread_ts"] == "1.000001"
    (update,) = fake_slack.calls_to("chat.update")
    assert update.args["ts"] == posted["ts"]
    assert update.args["text"] == "Rendering 12/240"
    assert update.at >= post.at


def test_message_timestamps_are_unique_and_increasing(client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel="C1", text=str(i))["ts"] for i in range(3)]

    assert stamps == ["1700000000.000100", "1700000000.000200", "1700000000.000300"]


def test_files_upload_v2_goes_through_url_upload_and_completion(
    fake_slack: FakeSlack, client: WebClient
) -> None:
    sheet = b"\x89PNG\r\n\x1a\n contact sheet"

    result = client.files_upload_v2(
        content=sheet, filename="sheet.png", channel="C1", thread_ts="1700000000.000100"
    )

    methods = [call.method for call in fake_slack.calls]
    assert methods == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    (get_url,) = fake_slack.calls_to("files.getUploadURLExternal")
    assert get_url.args["filename"] == "sheet.png"
    assert get_url.args["length"] == str(len(sheet))
    (upload,) = fake_slack.calls_to("upload")
    assert upload.args == {"file_id": "F000001"}
    assert upload.body == sheet
    (complete,) = fake_slack.calls_to("files.completeUploadExternal")
    assert complete.args["files"][0]["id"] == "F000001"
    assert complete.args["channel_id"] == "C1"
    assert complete.args["thread_ts"] == "1700000000.000100"
    assert result["file"]["id"] == "F000001"


def test_rate_limited_update_is_retried_by_the_client(fake_slack: FakeSlack) -> None:
    client = WebClient(
        token=TOKEN,
        base_url=fake_slack.base_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
    )
    fake_slack.rate_limit("chat.update", times=1, retry_after=0)

    response = client.chat_update(channel="C1", ts="1700000000.000100", text="done")

    assert response["ok"] is True
    first, second = fake_slack.calls_to("chat.update")
    assert first.args["_ratelimited"] is True
    assert "_ratelimited" not in second.args


def test_rate_limited_call_without_retry_surfaces_retry_after(
    fake_slack: FakeSlack, client: WebClient
) -> None:
    fake_slack.rate_limit("chat.postMessage", retry_after=7)

    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C1", text="hello")

    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] in ("7", ["7"])
    assert raised.value.response["error"] == "ratelimited"


def test_failure_is_answered_once_then_calls_succeed(fake_slack: FakeSlack, client: WebClient) -> None:
    fake_slack.fail("chat.postMessage", "channel_not_found")

    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C404", text="hello")
    assert raised.value.response["error"] == "channel_not_found"

    assert client.chat_postMessage(channel="C1", text="hello")["ok"] is True
    assert len(fake_slack.calls_to("chat.postMessage")) == 2


def test_canned_answers_for_lookups_and_views(client: WebClient) -> None:
    assert client.users_info(user="U0ARTIST")["user"] == {
        "id": "U0ARTIST",
        "name": "artist",
        "tz": "UTC",
        "is_admin": False,
    }
    assert client.conversations_info(channel="C0RENDERS")["channel"] == {
        "id": "C0RENDERS",
        "name": "renders",
        "is_member": True,
    }
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Render"}, "blocks": []}
    assert client.views_open(trigger_id="t1", view=view)["view"]["id"] == "V0001"
    assert client.chat_postEphemeral(channel="C1", user="U1", text="only you")["message_ts"]
    assert client.chat_getPermalink(channel="C1", message_ts="1700000000.000100")["permalink"].endswith(
        "/archives/C1/p1700000000000100"
    )
    assert client.reactions_add(channel="C1", timestamp="1.1", name="eyes")["ok"] is True


def test_webhook_post_to_response_url_is_recorded(fake_slack: FakeSlack) -> None:
    response = WebhookClient(fake_slack.response_url("render")).send(text="Queued 240 frames")

    assert response.status_code == 200
    (call,) = fake_slack.calls_to("response_url")
    assert call.args["text"] == "Queued 240 frames"
    assert call.args["_name"] == "render"


def test_wait_for_lists_the_methods_seen_when_it_times_out(fake_slack: FakeSlack, client: WebClient) -> None:
    client.auth_test()

    with pytest.raises(AssertionError, match=r"chat\.update.*auth\.test"):
        fake_slack.wait_for("chat.update", timeout=0.05)


def test_reset_forgets_calls(fake_slack: FakeSlack, client: WebClient) -> None:
    client.auth_test()

    fake_slack.reset()

    assert fake_slack.calls == []


# ---- Bolt, dispatched in-process with signed requests -------------------------------------------------------


@pytest.fixture
def bolt_app(fake_slack: FakeSlack) -> App:
    app = App(
        client=WebClient(token=TOKEN, base_url=fake_slack.base_url),
        signing_secret=SIGNING_SECRET,
        process_before_response=True,
    )

    @app.command("/render")
    def render(ack: Ack, respond: Respond, command: dict[str, Any]) -> None:
        ack("ok")
        respond(f"Rendering {command['text']}")

    return app


def test_bolt_checks_the_token_against_the_fake_at_start(fake_slack: FakeSlack, bolt_app: App) -> None:
    (auth,) = fake_slack.calls_to("auth.test")
    assert auth.headers["authorization"] == f"Bearer {TOKEN}"


def test_signed_slash_command_is_acknowledged(fake_slack: FakeSlack, bolt_app: App) -> None:
    body = slash_command_body("shot.blend 1-240", response_url=fake_slack.response_url("render"))

    response = dispatch_signed(bolt_app, body, SIGNING_SECRET)

    assert response.status == 200
    assert response.body == "ok"
    (reply,) = fake_slack.wait_for("response_url")
    assert reply.args["text"] == "Rendering shot.blend 1-240"


def test_slash_command_with_a_wrong_signature_is_rejected(bolt_app: App) -> None:
    body = slash_command_body("shot.blend 1-240")

    response = dispatch_signed(bolt_app, body, secret="not-the-secret")

    assert response.status == 401


def test_slash_command_signed_six_minutes_ago_is_rejected(bolt_app: App) -> None:
    body = slash_command_body("shot.blend 1-240")
    six_minutes_ago = int(time.time()) - 6 * 60

    response = dispatch_signed(bolt_app, body, SIGNING_SECRET, timestamp=six_minutes_ago)

    assert response.status == 401


def test_signed_block_action_reaches_its_listener(bolt_app: App) -> None:
    clicked: list[str] = []

    @bolt_app.action("cancel_job")
    def cancel(ack: Ack, action: dict[str, Any]) -> None:
        ack()
        clicked.append(action["value"])

    body = interaction_body(
        {
            "type": "block_actions",
            "team": {"id": "T0001", "domain": "studio"},
            "user": {"id": "U0ARTIST", "username": "artist", "team_id": "T0001"},
            "api_app_id": "A0STUDIOBOT",
            "trigger_id": "t1",
            "channel": {"id": "C0RENDERS", "name": "renders"},
            "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": "C0RENDERS"},
            "actions": [{"type": "button", "action_id": "cancel_job", "block_id": "job", "value": "job-42"}],
        }
    )

    response = dispatch_signed(bolt_app, body, SIGNING_SECRET)

    assert response.status == 200
    assert clicked == ["job-42"]
