"""`make deploy` pins the bot to one workspace and one app: from PARAMS, else from SSM, else it stops and says how."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from local.deployer.deploy import slack_pins


def test_the_pins_come_from_params_first_then_from_ssm() -> None:
    with mock_aws():
        ssm = boto3.client("ssm", region_name="us-east-1")
        ssm.put_parameter(Name="/studiobot/prod/slack-team-id", Type="String", Value="T0STUDIO")
        ssm.put_parameter(Name="/studiobot/prod/slack-app-id", Type="String", Value="A0STUDIOBOT")
        assert slack_pins("prod", [], ssm) == ["slackTeamId=T0STUDIO", "slackAppId=A0STUDIOBOT"]
        assert slack_pins("prod", ["slackAppId=A0OTHER", "admins=U0A"], ssm) == ["slackTeamId=T0STUDIO"]


def test_a_deploy_without_the_pins_stops_and_says_how_to_store_them() -> None:
    with mock_aws():
        ssm = boto3.client("ssm", region_name="us-east-1")
        with pytest.raises(SystemExit) as stopped:
            slack_pins("prod", ["slackTeamId=T0STUDIO"], ssm)
        assert "aws ssm put-parameter --type String --name /studiobot/prod/slack-app-id" in str(stopped.value)
