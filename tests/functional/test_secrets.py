"""Slack secrets from SSM Parameter Store (SecureString) through Powertools, cached, never shown."""

from __future__ import annotations

import boto3
from moto import mock_aws

from backend.config import slack_credentials


def test_secrets_come_from_ssm_and_are_cached_and_hidden() -> None:
    with mock_aws():
        ssm = boto3.client("ssm", region_name="us-east-1")
        ssm.put_parameter(Name="/studiobot/dev/slack-bot-token", Value="xoxb-from-ssm", Type="SecureString")
        ssm.put_parameter(
            Name="/studiobot/dev/slack-signing-secret", Value="s3cr3t-from-ssm", Type="SecureString"
        )
        env = {
            "SLACK_BOT_TOKEN_PARAMETER": "/studiobot/dev/slack-bot-token",
            "SLACK_SIGNING_SECRET_PARAMETER": "/studiobot/dev/slack-signing-secret",
        }
        credentials = slack_credentials(env)
        assert (credentials.bot_token, credentials.signing_secret) == ("xoxb-from-ssm", "s3cr3t-from-ssm")
        assert "xoxb" not in repr(credentials) and "s3cr3t" not in repr(credentials)
        ssm.put_parameter(
            Name="/studiobot/dev/slack-bot-token", Value="xoxb-rotated", Type="SecureString", Overwrite=True
        )
        assert (
            slack_credentials(env).bot_token == "xoxb-from-ssm"
        )  # cached for 5 minutes, not fetched per request


def test_the_environment_wins_and_nothing_named_means_nothing_fetched() -> None:
    assert (
        slack_credentials({"SLACK_BOT_TOKEN": "xoxb-env", "SLACK_BOT_TOKEN_PARAMETER": "/nope"}).bot_token
        == "xoxb-env"
    )
    assert slack_credentials({}).bot_token == ""
