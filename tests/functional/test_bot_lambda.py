"""The bot's Lambda as deployed: an HTTP API (payload 2.0) event in, Bolt, the lazy listener re-invoking the very
function it runs in (the one `lambda:InvokeFunction` its role grants), the job card out to Slack."""

from __future__ import annotations

import base64
import importlib
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest

from testing.slack import FakeSlack, signed_headers, slash_command_body

from .conftest import Stack

SECRET = "lambda-signing-secret"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:studiobot-ci-bot"


@dataclass
class Context:
    """What the Lambda runtime hands a Python handler (the parts Bolt reads)."""

    function_name: str = "studiobot-ci-bot"
    invoked_function_arn: str = FUNCTION_ARN
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"

    def get_remaining_time_in_millis(self) -> int:
        return 120_000


class SelfInvoke:
    """Lambda's async `invoke` of the bot by itself: records the call, then runs the payload as Lambda would."""

    def __init__(self, handler: ModuleType) -> None:
        self.handler = handler
        self.calls: list[dict[str, Any]] = []

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        self.handler.handler(json.loads(kwargs["Payload"]), Context())
        return {"StatusCode": 202}


def http_api_event(body: str, headers: dict[str, str]) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event as the bot's route receives it."""
    return {
        "version": "2.0",
        "routeKey": "POST /slack/events",
        "rawPath": "/slack/events",
        "rawQueryString": "",
        "headers": {name.lower(): value for name, value in headers.items()} | {"host": "example.invalid"},
        "requestContext": {
            "http": {"method": "POST", "path": "/slack/events", "sourceIp": "127.0.0.1"},
            "routeKey": "POST /slack/events",
            "stage": "$default",
        },
        "body": base64.b64encode(body.encode()).decode(),
        "isBase64Encoded": True,
    }


@pytest.fixture
def lambda_bot(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ModuleType, FakeSlack]]:
    with FakeSlack() as slack:
        for name, value in stack.info.environ().items():
            if name != "AWS_ENDPOINT_URL":  # in-process moto: no endpoint
                monkeypatch.setenv(name, value)
        monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-lambda")
        monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
        monkeypatch.setenv("SLACK_API_URL", slack.base_url)
        sys.modules.pop("entry.slack", None)
        handler = importlib.import_module("entry.slack")
        yield handler, slack
        sys.modules.pop("entry.slack", None)


def test_a_slash_command_through_the_http_api_is_acked_then_run_by_the_function_invoking_itself(
    stack: Stack, lambda_bot: tuple[ModuleType, FakeSlack]
) -> None:
    handler, slack = lambda_bot
    invoke = SelfInvoke(handler)
    handler.app.listener_runner.lazy_listener_runner.lambda_client = invoke
    stack.put_scene("shot.blend")
    body = slash_command_body("shot.blend 1-4", response_url=slack.response_url())

    response = handler.handler(http_api_event(body, signed_headers(body, SECRET)), Context())

    assert response["statusCode"] == 200
    (call,) = invoke.calls
    assert call["FunctionName"] == FUNCTION_ARN and call["InvocationType"] == "Event"
    payload = json.loads(call["Payload"])
    assert payload["headers"]["x-slack-bolt-lazy-only"] == "1"
    (card,) = slack.calls_to("chat.postMessage")
    assert card.args["channel"] == "C0RENDERS" and "shot.blend" in card.args["text"]
    assert len(stack.queued_bodies()) == 4


@pytest.mark.parametrize("problem", ["wrong secret", "six minutes old"])
def test_unsigned_or_stale_requests_are_refused_and_run_nothing(
    stack: Stack, lambda_bot: tuple[ModuleType, FakeSlack], problem: str
) -> None:
    handler, slack = lambda_bot
    invoke = SelfInvoke(handler)
    handler.app.listener_runner.lazy_listener_runner.lambda_client = invoke
    body = slash_command_body("shot.blend 1-4")
    if problem == "wrong secret":
        headers = signed_headers(body, "not-the-secret")
    else:
        headers = signed_headers(body, SECRET, timestamp=int(time.time()) - 6 * 60)

    response = handler.handler(http_api_event(body, headers), Context())

    assert response["statusCode"] == 401
    assert invoke.calls == [] and slack.calls_to("chat.postMessage") == []
    assert stack.queued_bodies() == []


@pytest.mark.parametrize("stranger", ["team", "app"])
def test_a_signed_request_from_another_workspace_or_app_is_refused_by_the_pinned_function(
    stack: Stack, lambda_bot: tuple[ModuleType, FakeSlack], monkeypatch: pytest.MonkeyPatch, stranger: str
) -> None:
    monkeypatch.setenv("STUDIOBOT_SLACK_TEAM_ID", "T0001")
    monkeypatch.setenv("STUDIOBOT_SLACK_APP_ID", "A0STUDIOBOT")
    sys.modules.pop("entry.slack", None)
    handler = importlib.import_module("entry.slack")  # the environment is read at a cold start
    _, slack = lambda_bot
    invoke = SelfInvoke(handler)
    handler.app.listener_runner.lazy_listener_runner.lambda_client = invoke
    stack.put_scene("shot.blend")
    ours = slash_command_body("help")
    assert handler.handler(http_api_event(ours, signed_headers(ours, SECRET)), Context())["statusCode"] == 200
    body = slash_command_body(
        "shot.blend 1-4",
        user_id="U0ADMIN",
        team_id="T0OTHER" if stranger == "team" else "T0001",
        api_app_id="A0OTHER" if stranger == "app" else "A0STUDIOBOT",
    )

    response = handler.handler(http_api_event(body, signed_headers(body, SECRET)), Context())

    assert response["statusCode"] == 401
    assert invoke.calls == [] and slack.calls_to("chat.postMessage") == []
    assert stack.queued_bodies() == []
