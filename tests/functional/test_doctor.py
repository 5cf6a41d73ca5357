"""`studiobot doctor` on the local stack's AWS (moto's server on 127.0.0.1) and the loopback fake of Slack: every
check passing on a ready account and workspace, then each ✗ provoked the way a first day would provoke it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from backend.doctor.checks import Check, blocked
from local.cli.main import app
from local.deployer.doctor import diagnose
from local.embedded import moto_patches
from local.embedded.stack import FAKE_CREDENTIALS, REGION, MotoServer, start_moto_server
from testing.slack import FakeSlack

STAGE = "prod"
SSM_CORE = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
TOKEN = "xoxb-doctor-test"
GPU_ON = {"gpuNodes": "true", "gpuMaxVcpus": "64", "gpuNodeVcpus": "4"}
READY = {"opsChannel": "C0OPS", "allowedChannels": "C0RENDERS,C0LIGHTING", **GPU_ON}


@dataclass
class Account:
    """Clients of the moto server the doctor checks, for arranging each scene."""

    server: MotoServer

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=self.server.endpoint)

    def put_parameters(self, *missing: str) -> None:
        ssm = self.client("ssm")
        for name, kind in (
            ("slack-bot-token", "SecureString"),
            ("slack-signing-secret", "SecureString"),
            ("slack-team-id", "String"),
            ("slack-app-id", "String"),
        ):
            if name not in missing:
                value = {"slack-bot-token": TOKEN, "slack-team-id": "T0001"}.get(name, "value")
                ssm.put_parameter(Name=f"/studiobot/{STAGE}/{name}", Type=kind, Value=value)

    def profile(self, name: str, *policies: str) -> str:
        iam = self.client("iam")
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"}))
        for arn in policies:
            iam.attach_role_policy(RoleName=name, PolicyArn=arn)
        iam.create_instance_profile(InstanceProfileName=name)
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
        return name

    def workstation(self, name: str, profile: str | None, key_arn: str | None = None) -> str:
        ebs: dict[str, Any] = {"VolumeSize": 8}
        if key_arn:
            ebs.update(Encrypted=True, KmsKeyId=key_arn)
        extra: dict[str, Any] = {"IamInstanceProfile": {"Name": profile}} if profile else {}
        instance = self.client("ec2").run_instances(
            ImageId="ami-12c6146b",
            MinCount=1,
            MaxCount=1,
            BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": ebs}],
            TagSpecifications=[
                {"ResourceType": "instance", "Tags": [{"Key": "studiobot:workstation", "Value": name}]}
            ],
            **extra,
        )["Instances"][0]
        return str(instance["InstanceId"])


def _ssm_core_exists() -> None:
    """AWS's managed policy, as moto loads it with MOTO_IAM_LOAD_MANAGED_POLICIES (which takes 3 s per reset)."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data
    from moto.iam.models import AWSManagedPolicy, iam_backends

    data = json.loads(aws_managed_policies_data)["AmazonSSMManagedInstanceCore"]
    policy = AWSManagedPolicy.from_data("AmazonSSMManagedInstanceCore", "123456789012", REGION, data)
    iam_backends["123456789012"]["global"].managed_policies[policy.arn] = policy


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[Account]:
    monkeypatch.delenv("MOTO_LAMBDA_CONCURRENCY_QUOTA", raising=False)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    server = start_moto_server()
    _ssm_core_exists()
    for name, value in {**FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": server.endpoint}.items():
        monkeypatch.setenv(name, value)
    try:
        yield Account(server)
    finally:
        server.stop()


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        monkeypatch.setenv("SLACK_API_URL", fake.base_url)
        yield fake


@pytest.fixture
def ready(account: Account, slack: FakeSlack) -> Account:
    """An account and workspace where every check passes (GPU nodes on, one workstation with a CMK volume)."""
    account.put_parameters()
    moto_patches.set_service_quota("ec2", "L-3819A6DF", 64)
    key = account.client("kms").create_key(Description="studio workstations")["KeyMetadata"]["Arn"]
    account.workstation("anna", account.profile("studio-workstation", SSM_CORE), key_arn=key)
    return account


def _by_name(checks: list[Check]) -> dict[str, Check]:
    return {check.name: check for check in checks}


def _failing(checks: list[Check]) -> dict[str, Check]:
    return {check.name: check for check in checks if not check.ok}


def test_every_check_passes_on_a_ready_account_and_workspace(ready: Account, slack: FakeSlack) -> None:
    result = CliRunner().invoke(
        app,
        ["doctor", "--stage", STAGE, *[arg for k, v in READY.items() for arg in ("--param", f"{k}={v}")]],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if line.startswith("│")]
    names = [
        "AWS credentials",
        "Lambda concurrency",
        "Lambda memory",
        "GPU Spot vCPUs",
        "SSM parameters",
        "Slack token",
        "Slack scopes",
        "Ops channel",
        "Allowed channels",
        "Workstation agents",
        "Workstation profiles",
        "Workstation keys",
    ]
    assert [row.split("│")[1].strip() for row in rows] == names
    assert all(row.split("│")[2].strip() == "✓" for row in rows), result.output
    assert "account 123456789012" in result.output and REGION in result.output
    assert "Ready to deploy" in result.output
    # read-only: nothing written to Slack, nothing printed of the secrets
    assert {call.method for call in slack.calls} == {"auth.test", "conversations.info"}
    assert TOKEN not in result.output


def test_a_missing_parameter_blocks_and_says_how_to_store_it(account: Account, slack: FakeSlack) -> None:
    account.put_parameters("slack-signing-secret", "slack-app-id")
    checks = diagnose(STAGE, {"opsChannel": "C0OPS"})
    failing = _failing(checks)
    assert list(failing) == ["SSM parameters"] and blocked(checks)
    missing = failing["SSM parameters"]
    assert f"/studiobot/{STAGE}/slack-signing-secret" in missing.detail
    assert f"/studiobot/{STAGE}/slack-app-id" in missing.detail
    assert f"put-parameter --type SecureString --name /studiobot/{STAGE}/slack-signing-secret" in missing.fix
    # a pin given as a param needs no parameter
    assert "slack-app-id" not in _by_name(diagnose(STAGE, {"slackAppId": "A0X"}))["SSM parameters"].detail


def test_a_token_without_a_manifest_scope_blocks(account: Account, slack: FakeSlack) -> None:
    account.put_parameters()
    slack.scopes = ["commands", "chat:write", "files:write", "channels:read", "groups:read"]
    checks = diagnose(STAGE, {"opsChannel": "C0OPS"})
    assert list(_failing(checks)) == ["Slack scopes"] and blocked(checks)
    assert "files:read" in _by_name(checks)["Slack scopes"].detail
    assert "reinstall" in _by_name(checks)["Slack scopes"].fix


def test_a_revoked_token_blocks(account: Account, slack: FakeSlack) -> None:
    account.put_parameters()
    slack.fail("auth.test", "token_revoked", times=5)
    checks = diagnose(STAGE, {"opsChannel": "C0OPS"})
    token = _by_name(checks)["Slack token"]
    assert not token.ok and token.blocking and "token_revoked" in token.detail


def test_a_token_of_another_workspace_than_the_pinned_one_blocks(account: Account, slack: FakeSlack) -> None:
    account.put_parameters()  # slack-team-id T0001: the fake's workspace
    assert _by_name(diagnose(STAGE, {"opsChannel": "C0OPS"}))["Slack token"].ok
    checks = diagnose(STAGE, {"opsChannel": "C0OPS", "slackTeamId": "T0OTHER"})
    token = _by_name(checks)["Slack token"]
    assert not token.ok and token.blocking and "T0OTHER" in token.detail and "T0001" in token.detail


def test_the_bot_outside_the_ops_channel_blocks_and_outside_an_allowed_one_warns(
    account: Account, slack: FakeSlack
) -> None:
    account.put_parameters()
    slack.left = {"C0OPS", "C0LIGHTING"}
    checks = diagnose(STAGE, {"opsChannel": "C0OPS", "allowedChannels": "C0RENDERS,C0LIGHTING"})
    failing = _failing(checks)
    assert list(failing) == ["Ops channel", "Allowed channels"]
    assert failing["Ops channel"].blocking and "/invite @studiobot" in failing["Ops channel"].fix
    assert not failing["Allowed channels"].blocking and "C0LIGHTING" in failing["Allowed channels"].detail
    assert "C0RENDERS" not in failing["Allowed channels"].detail


def test_a_running_workstation_whose_agent_is_offline_warns(account: Account, slack: FakeSlack) -> None:
    account.put_parameters()
    account.workstation("bob", profile=None)  # moto: no instance profile, no agent online
    stopped = account.workstation("carol", profile=account.profile("ws", SSM_CORE))
    account.client("ec2").stop_instances(InstanceIds=[stopped])
    checks = diagnose(STAGE, {"opsChannel": "C0OPS"})
    agents = _by_name(checks)["Workstation agents"]
    assert not agents.ok and not agents.blocking and not blocked(checks)
    assert "bob" in agents.detail and "carol" not in agents.detail  # a stopped machine's agent is asked later
    assert "bob" in _by_name(checks)["Workstation profiles"].detail  # no profile at all


def test_a_workstation_profile_without_ssm_core_warns(account: Account, slack: FakeSlack) -> None:
    account.put_parameters()
    account.workstation("dave", profile=account.profile("bare-role"))
    checks = diagnose(STAGE, {"opsChannel": "C0OPS"})
    assert list(_failing(checks)) == ["Workstation profiles"] and not blocked(checks)
    profiles = _by_name(checks)["Workstation profiles"]
    assert "dave" in profiles.detail and "AmazonSSMManagedInstanceCore" in profiles.fix


def test_a_customer_managed_key_the_start_roles_cannot_use_warns(account: Account, slack: FakeSlack) -> None:
    account.put_parameters()
    kms = account.client("kms")
    key = kms.create_key(Description="locked down")["KeyMetadata"]
    only_admins = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:role/key-admins"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=json.dumps(only_admins))
    account.workstation("erin", account.profile("ws", SSM_CORE), key_arn=key["Arn"])
    checks = diagnose(STAGE, {"opsChannel": "C0OPS"})
    assert list(_failing(checks)) == ["Workstation keys"] and not blocked(checks)
    keys = _by_name(checks)["Workstation keys"]
    assert "erin" in keys.detail and key["KeyId"] in keys.detail
    assert "kms:CreateGrant" in keys.fix and "kms:GrantIsForAWSResource" in keys.fix


def test_a_spot_quota_of_zero_with_gpu_nodes_on_blocks(account: Account, slack: FakeSlack) -> None:
    account.put_parameters()
    moto_patches.set_service_quota("ec2", "L-3819A6DF", 0)
    checks = diagnose(STAGE, {"opsChannel": "C0OPS", **GPU_ON})
    assert list(_failing(checks)) == ["GPU Spot vCPUs"] and blocked(checks)
    assert "L-3819A6DF" in _by_name(checks)["GPU Spot vCPUs"].fix
    # GPU nodes off: the quota does not matter
    assert _by_name(diagnose(STAGE, {"opsChannel": "C0OPS"}))["GPU Spot vCPUs"].ok
    # a quota below the ceiling only warns: fewer nodes at once
    moto_patches.set_service_quota("ec2", "L-3819A6DF", 16)
    partial = _by_name(diagnose(STAGE, {"opsChannel": "C0OPS", **GPU_ON}))["GPU Spot vCPUs"]
    assert not partial.ok and not partial.blocking and "4 nodes" in partial.detail


def test_low_lambda_concurrency_blocks_and_a_new_account_warns_about_memory(
    account: Account, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    account.put_parameters()
    monkeypatch.setenv("MOTO_LAMBDA_CONCURRENCY_QUOTA", "10")  # moto's own knob for the account's limit
    checks = diagnose(STAGE, {"opsChannel": "C0OPS"})
    failing = _failing(checks)
    assert list(failing) == ["Lambda concurrency", "Lambda memory"] and blocked(checks)
    assert failing["Lambda concurrency"].blocking and "renderConcurrency" in failing["Lambda concurrency"].fix
    assert not failing["Lambda memory"].blocking and "10240 MB" in failing["Lambda memory"].detail
    # the default account limit with a render concurrency that leaves the bot nothing
    monkeypatch.delenv("MOTO_LAMBDA_CONCURRENCY_QUOTA")
    crowded = _by_name(diagnose(STAGE, {"opsChannel": "C0OPS", "renderConcurrency": "995"}))
    assert not crowded["Lambda concurrency"].ok and crowded["Lambda memory"].ok


def test_make_deploy_stops_before_changing_anything_when_the_doctor_blocks(
    account: Account, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from local.deployer import deploy

    # GIVEN every parameter in place (what `make deploy` itself checks) but a token Slack has revoked
    account.put_parameters()
    slack.fail("auth.test", "token_revoked", times=5)

    def went_past_the_doctor(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"make deploy went past the doctor: {args[0]}")

    monkeypatch.setattr(deploy.subprocess, "run", went_past_the_doctor)
    # WHEN `make deploy` runs
    with pytest.raises(SystemExit) as stopped:
        deploy.deploy(STAGE, ["opsChannel=C0OPS"])
    # THEN it stops on the doctor's table, before the ECR repository, the image or the stack
    assert stopped.value.code == 1
    assert account.client("ecr").describe_repositories()["repositories"] == []
    printed = capsys.readouterr().out
    assert "token_revoked" in printed and "1 blocking: Slack token" in printed
