"""The Slack secrets on AWS under the stage's own key: `make deploy` moves them there from `aws/ssm`, and a rotation
puts the new value there and restarts exactly the functions that read it (on moto)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.deployer.secrets import ROTATED_VERSION, key_alias, onto_stack_key, rotate

STAGE = "prod"
TOKEN, SIGNING = f"/studiobot/{STAGE}/slack-bot-token", f"/studiobot/{STAGE}/slack-signing-secret"
FUNCTIONS = ("bot", "notifier", "noticeRedrive", "sweep")


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    with mock_aws():
        kms = boto3.client("kms", region_name="us-east-1")
        key = kms.create_key(Description="studiobot Slack secrets")["KeyMetadata"]
        kms.create_alias(AliasName=key_alias(STAGE), TargetKeyId=key["KeyId"])
        role = boto3.client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("handler.py", "def handler(event, context):\n    return None\n")
        lambda_ = boto3.client("lambda", region_name="us-east-1")
        for function in FUNCTIONS:
            lambda_.create_function(
                FunctionName=f"studiobot-{STAGE}-{function}",
                Runtime="python3.12",
                Role=role,
                Handler="handler.handler",
                Code={"ZipFile": code.getvalue()},
                Environment={"Variables": {"STUDIOBOT_STAGE": STAGE}},
            )
        yield {"ssm": boto3.client("ssm", region_name="us-east-1"), "kms": kms, "lambda": lambda_, "key": key}


def _key_of(ssm: Any, name: str) -> str:
    (found,) = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"]
    return str(found["KeyId"])


def test_deploy_moves_the_secrets_off_the_default_key_once(aws: dict[str, Any]) -> None:
    ssm = aws["ssm"]
    ssm.put_parameter(Name=TOKEN, Value="xoxb-1", Type="SecureString")  # README's first step: on aws/ssm
    ssm.put_parameter(Name=SIGNING, Value="s3cr3t", Type="SecureString", KeyId=aws["key"]["Arn"])
    said: list[str] = []
    assert onto_stack_key(ssm, STAGE, aws["kms"], said.append) == [TOKEN]
    assert _key_of(ssm, TOKEN) == "alias/studiobot-prod"
    assert ssm.get_parameter(Name=TOKEN, WithDecryption=True)["Parameter"]["Value"] == "xoxb-1"
    assert _key_of(ssm, SIGNING) == aws["key"]["Arn"]  # already under the key, by its ARN: left alone
    assert said == [
        f"{TOKEN}: now under alias/studiobot-prod, which only the functions that talk to Slack may decrypt"
    ]
    assert onto_stack_key(ssm, STAGE, aws["kms"], said.append) == []  # the next deploy has nothing to move


def test_a_rotated_secret_is_put_under_the_key_and_restarts_exactly_its_readers(aws: dict[str, Any]) -> None:
    ssm, lambda_ = aws["ssm"], aws["lambda"]
    ssm.put_parameter(Name=SIGNING, Value="old", Type="SecureString", KeyId=key_alias(STAGE))

    def marks() -> dict[str, str | None]:
        return {
            function: lambda_.get_function_configuration(FunctionName=f"studiobot-{STAGE}-{function}")[
                "Environment"
            ]["Variables"].get(ROTATED_VERSION)
            for function in FUNCTIONS
        }

    assert rotate(ssm, lambda_, STAGE, "slack-signing-secret", " new-secret\n") == ["studiobot-prod-bot"]
    assert ssm.get_parameter(Name=SIGNING, WithDecryption=True)["Parameter"]["Value"] == "new-secret"
    assert _key_of(ssm, SIGNING) == "alias/studiobot-prod"
    assert marks() == {
        "bot": "slack-signing-secret:2",
        "notifier": None,
        "noticeRedrive": None,
        "sweep": None,
    }
    bot = lambda_.get_function_configuration(FunctionName="studiobot-prod-bot")["Environment"]["Variables"]
    assert bot["STUDIOBOT_STAGE"] == STAGE  # the rest of its environment kept

    restarted = rotate(ssm, lambda_, STAGE, "slack-bot-token", "xoxb-2")
    assert restarted == ["studiobot-prod-bot", "studiobot-prod-notifier", "studiobot-prod-noticeRedrive"]
    assert marks()["sweep"] is None and marks()["notifier"] == "slack-bot-token:1"


def test_a_rotation_refuses_an_unknown_secret_or_an_empty_value(aws: dict[str, Any]) -> None:
    with pytest.raises(
        SystemExit, match="No secret `slack-app-token`: try slack-signing-secret or slack-bot-token"
    ):
        rotate(aws["ssm"], aws["lambda"], STAGE, "slack-app-token", "x")
    with pytest.raises(SystemExit, match="The new value is empty"):
        rotate(aws["ssm"], aws["lambda"], STAGE, "slack-signing-secret", "  \n")
