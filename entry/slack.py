"""Bot Lambda entry point (`entry.slack.handler`): API Gateway in, Bolt, API Gateway out."""

from __future__ import annotations

import base64
import binascii
import time
from typing import Any

from slack_bolt.adapter.aws_lambda import SlackRequestHandler
from slack_bolt.adapter.aws_lambda.handler import to_aws_response

from backend.config import Settings, slack_credentials
from bot.app import build_app, logger
from bot.identity import unpinned
from bot.signatures import refusal, unsigned
from entry import wiring

credentials = slack_credentials()
settings = Settings.from_env()
app = build_app(settings, credentials, services=wiring.Services(settings))
slack_handler = SlackRequestHandler(app)
if warning := unpinned(settings.slack_team_id, settings.slack_app_id):
    logger.warning(warning)  # once per cold start


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Slack's request through API Gateway to Bolt and back; one Slack did not sign never reaches Bolt's parser."""
    try:
        body = event.get("body") or ""
        if event.get("isBase64Encoded"):
            body = base64.b64decode(body).decode()
    except (binascii.Error, UnicodeDecodeError, TypeError):
        return to_aws_response(unsigned())  # not a body Slack sends, so not one it signed
    headers = {str(name).lower(): value for name, value in (event.get("headers") or {}).items()}
    refused = refusal(credentials.signing_secret, body, headers, time.time())
    if refused is not None:
        return to_aws_response(refused)
    return slack_handler.handle(event, context)
