"""No input gets a 500: odd numbers, malformed signatures and generated requests through the bot's HTTP entries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from local.embedded.slack_http import BotServer
from testing.slack import FakeSlack, dispatch_signed, signed_headers, slash_command_body

from . import test_bot_lambda
from .conftest import SECRET, Bot

# The deployed bot's Lambda handler, built from the stack's environment.
lambda_bot = test_bot_lambda.lambda_bot
HTTP_EXAMPLES = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _ack_text(response: Any) -> str:
    return str(json.loads(response.body).get("text", "")) if response.body else ""


# ---- the failures of issue 12, one by one ------------------------------------------------------------------


def test_superscript_samples_and_chunk_are_answered_in_the_ack_not_a_500(bot: Bot) -> None:
    samples = bot.command("shot.blend 1-10 --samples ²")
    chunk = bot.command("shot.blend 1-10 --chunk ³", trigger="t2")
    assert samples.status == chunk.status == 200
    assert "`--samples ²` must be a whole number from 1 to 16,384" in _ack_text(samples)
    assert "`--chunk ³` must be a whole number from 1 to 100" in _ack_text(chunk)
    assert bot.stack.queued_bodies() == []


def _command_with_timestamp(timestamp: str) -> tuple[str, dict[str, str]]:
    body = slash_command_body("help")
    headers = signed_headers(body, SECRET)
    return body, headers | {"X-Slack-Request-Timestamp": timestamp}


def test_a_malformed_timestamp_is_a_401_not_a_500(bot: Bot) -> None:
    from slack_bolt.request import BoltRequest

    for timestamp in ("abc", "²", "1e9", "", "9" * 5000):
        body, headers = _command_with_timestamp(timestamp)
        wide: dict[str, str | Sequence[str]] = {**headers}
        assert bot.app.dispatch(BoltRequest(body=body, headers=wide)).status == 401


def test_a_malformed_timestamp_is_a_401_from_the_local_bot_server(bot: Bot) -> None:
    server = BotServer(bot.app, port=0).start()
    try:
        body, headers = _command_with_timestamp("abc")
        request = urllib.request.Request(server.url, data=body.encode(), headers=headers, method="POST")
        try:
            urllib.request.urlopen(request, timeout=10)
            status = 200
        except urllib.error.HTTPError as error:
            status = error.code
        assert status == 401
    finally:
        server.stop()


def test_a_signed_command_still_passes(bot: Bot) -> None:
    assert dispatch_signed(bot.app, slash_command_body("help"), SECRET).status == 200


# ---- generated requests through the Lambda entry (API Gateway event → Bolt's request handler) --------------


@dataclass
class NoSelfInvoke:
    """The lazy listener's `lambda:InvokeFunction`, recorded and not run: these tests are about the answer."""

    calls: list[dict[str, Any]] = field(default_factory=list)

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return {"StatusCode": 202}


def _event(body: str, headers: dict[str, str], encoded: bool = True) -> dict[str, Any]:
    event = test_bot_lambda.http_api_event(body, headers)
    if not encoded:
        event |= {"body": body, "isBase64Encoded": False}
    return event


def _signature(body: str, timestamp: str) -> str:
    signed = hmac.new(test_bot_lambda.SECRET.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256)
    return f"v0={signed.hexdigest()}"


def _handle(handler: ModuleType, event: dict[str, Any]) -> int:
    handler.app.listener_runner.lazy_listener_runner.lambda_client = NoSelfInvoke()
    return int(handler.handler(event, test_bot_lambda.Context())["statusCode"])


_ODD = [
    "abc", "", "²", "³", "٣", "１６", "1e9", "-1", " 1700000000", "0x10", "9" * 5000, "v0=", "v0=é", "🎬",
    "\x00", "\n", "{bad", "payload=", "payload=123", "payload=%5B1%5D", "[1]", "{}", "payload=%7Bbad",
]  # fmt: skip
_TEXT = st.one_of(
    st.sampled_from(_ODD),
    st.integers(-(10**30), 10**30).map(str),
    st.text(st.characters(categories=["Nd", "No"]), max_size=8),
    st.text(max_size=60),
)
_VALUE = st.one_of(
    st.sampled_from(_ODD),
    st.integers(-(10**30), 10**30).map(str),
    st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=8),  # `²`, `①`, `٣`: not ours
)
_COMMAND_TEXT = st.one_of(
    st.lists(
        st.one_of(_TEXT, st.sampled_from(["shot.blend", "1-240", "--samples", "--chunk", "extend", "guard"])),
        max_size=6,
    ).map(" ".join),
    # Well-formed up to one generated value, so that the value itself is what gets read.
    st.builds(
        "{} {}".format,
        st.sampled_from(
            [
                "shot.blend 1-240 --samples",
                "shot.blend 1-240 --chunk",
                "shot.blend 1-240 --res",
                "shot.blend",
                "extend anim-01",
                "guard on",
            ]
        ),
        _VALUE,
    ),
)
_COMMANDS = st.sampled_from(["/render", "/workstations", "/budget"])


@HTTP_EXAMPLES
@given(
    body=st.one_of(_TEXT, st.builds(slash_command_body, _COMMAND_TEXT, command=_COMMANDS)),
    timestamp=_TEXT,
    signature=_TEXT,
    sign_it=st.booleans(),
    encoded=st.booleans(),
)
@example(body=slash_command_body("help"), timestamp="abc", signature="v0=0", sign_it=True, encoded=True)
@example(body="{bad", timestamp="abc", signature="", sign_it=False, encoded=False)
def test_any_request_slack_did_not_sign_is_a_401(
    lambda_bot: tuple[ModuleType, FakeSlack],
    body: str,
    timestamp: str,
    signature: str,
    sign_it: bool,
    encoded: bool,
) -> None:
    stamp = timestamp.strip()
    assume(
        not (stamp.isascii() and stamp.isdigit() and len(stamp) < 20 and abs(int(stamp) - time.time()) < 600)
    )
    if sign_it:  # signed over the odd timestamp: a true signature does not make a malformed timestamp good
        signature = _signature(body, timestamp)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": timestamp}
    headers["X-Slack-Signature"] = signature
    handler, _ = lambda_bot
    assert _handle(handler, _event(body, headers, encoded)) == 401


@HTTP_EXAMPLES
@given(
    command=_COMMANDS,
    text=_COMMAND_TEXT,
    user=st.one_of(st.just("U0ARTIST"), _TEXT),
    channel=st.one_of(st.just("C0RENDERS"), _TEXT),
)
@example(command="/render", text="shot.blend 1-240 --samples ²", user="U0ARTIST", channel="C0RENDERS")
@example(command="/render", text="shot.blend 1-240 --chunk ³", user="U0ARTIST", channel="C0RENDERS")
@example(command="/workstations", text="extend x 99999999999d", user="U0ARTIST", channel="C0RENDERS")
def test_any_signed_slash_command_is_answered_with_a_200(
    lambda_bot: tuple[ModuleType, FakeSlack], command: str, text: str, user: str, channel: str
) -> None:
    body = slash_command_body(text, command=command, user_id=user, channel_id=channel)
    handler, _ = lambda_bot
    assert _handle(handler, _event(body, signed_headers(body, test_bot_lambda.SECRET))) == 200


def test_a_command_that_mentions_payload_is_answered(lambda_bot: tuple[ModuleType, FakeSlack]) -> None:
    body = slash_command_body("help payload")
    handler, _ = lambda_bot
    assert _handle(handler, _event(body, signed_headers(body, test_bot_lambda.SECRET))) == 200


@HTTP_EXAMPLES
@given(body=_TEXT)
def test_a_signed_body_that_is_no_slack_payload_is_never_a_500(
    lambda_bot: tuple[ModuleType, FakeSlack], body: str
) -> None:
    # Only Slack (or whoever holds the secret) can sign; a body it would never send is refused as unreadable (400)
    # or unhandled (Bolt's 404), never crashed on.
    handler, _ = lambda_bot
    assert _handle(handler, _event(body, signed_headers(body, test_bot_lambda.SECRET))) in (200, 400, 404)


def test_a_base64_body_that_is_not_base64_is_a_401(lambda_bot: tuple[ModuleType, FakeSlack]) -> None:
    handler, _ = lambda_bot
    event = _event("", signed_headers("", test_bot_lambda.SECRET)) | {"body": "not base64!"}
    assert _handle(handler, event) == 401
    assert _handle(handler, event | {"body": base64.b64encode(b"\xff\xfe").decode()}) == 401
