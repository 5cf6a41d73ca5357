"""Bot Lambda entry point (`bot.handlers.slack.handler`): API Gateway in, Bolt, API Gateway out."""

from __future__ import annotations

from typing import Any

from slack_bolt.adapter.aws_lambda import SlackRequestHandler

from backend.config import Settings, slack_credentials
from bot.app import build_app

app = build_app(Settings.from_env(), slack_credentials())
slack_handler = SlackRequestHandler(app)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Slack's request through API Gateway to Bolt and back."""
    return slack_handler.handle(event, context)
