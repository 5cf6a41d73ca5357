"""The workstations' own IAM (infra/iam.yml): an instance role that SSM alone may use, and the presence agent's
policy, which lets a workstation tag only itself with only the presence keys.

Read from the template, then deployed: `osls package` and moto's CloudFormation, as test_deploy does it.
moto's CloudFormation creates the instance profile and the managed policy, but ignores a role's
`ManagedPolicyArns` (and loads no AWS managed policies): that attachment is asserted from the template.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws

from local.deployer import deploy
from local.deployer.exclusive import exclusive

IAM = Path(__file__).resolve().parents[2] / "infra" / "iam.yml"
SSM_CORE = {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"}
ANY_INSTANCE_OF_THIS_ACCOUNT = {"Fn::Sub": "arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:instance/*"}
PRESENCE_CONDITIONS = {
    "StringEquals": {"aws:ARN": {"Fn::Sub": "${!ec2:SourceInstanceARN}"}},
    "ForAllValues:StringEquals": {"aws:TagKeys": ["studiobot:presence", "studiobot:presence-at"]},
    "Null": {"aws:ResourceTag/studiobot:workstation": "false"},
}


class _CloudFormationLoader(yaml.SafeLoader):
    """Reads `!Ref`, `!GetAtt`, `!Sub`… as the JSON form CloudFormation (and osls) gives them."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node)
    else:
        value = loader.construct_mapping(node)  # type: ignore[arg-type]
    return {"Ref": value} if suffix == "Ref" else {f"Fn::{suffix}": value}


_CloudFormationLoader.add_multi_constructor("!", _tag)


@pytest.fixture(scope="module")
def iam() -> dict[str, Any]:
    template: dict[str, Any] = yaml.load(IAM.read_text(), Loader=_CloudFormationLoader)
    return template


def test_the_workstation_role_has_the_ssm_core_policy_and_nothing_else(iam: dict[str, Any]) -> None:
    role = iam["Resources"]["WorkstationRole"]
    assert role["Type"] == "AWS::IAM::Role"
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust == {
        "Effect": "Allow",
        "Principal": {"Service": "ec2.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
    assert role["Properties"]["ManagedPolicyArns"] == [SSM_CORE]
    assert "Policies" not in role["Properties"]  # no inline policy
    profile = iam["Resources"]["WorkstationInstanceProfile"]
    assert profile == {
        "Type": "AWS::IAM::InstanceProfile",
        "Properties": {"Roles": [{"Ref": "WorkstationRole"}]},
    }


def test_the_agent_policy_allows_only_self_tagging_with_the_presence_keys(iam: dict[str, Any]) -> None:
    policy = iam["Resources"]["WorkstationPresenceAgentPolicy"]
    assert policy["Type"] == "AWS::IAM::ManagedPolicy"
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "ec2:CreateTags"
    assert statement["Resource"] == ANY_INSTANCE_OF_THIS_ACCOUNT
    assert statement["Condition"] == PRESENCE_CONDITIONS
    assert "NotAction" not in statement and "NotResource" not in statement


def test_the_agent_policy_is_attached_to_nothing_by_default(iam: dict[str, Any]) -> None:
    policy = iam["Resources"]["WorkstationPresenceAgentPolicy"]["Properties"]
    assert not {"Roles", "Users", "Groups"} & set(policy)
    mentions = [
        name
        for name, resource in iam["Resources"].items()
        if name != "WorkstationPresenceAgentPolicy"
        and "WorkstationPresenceAgentPolicy" in json.dumps(resource)
    ]
    assert mentions == []


@pytest.fixture(scope="module")
def deployed() -> Iterator[dict[str, Any]]:
    with exclusive(deploy.PACKAGING_LOCK):  # deploying reads `.serverless/`: nobody packages meanwhile
        packaged = deploy.package("ci")
        with mock_aws():
            outputs = deploy.deploy_packaged(
                boto3.client("cloudformation"), boto3.client("s3"), "studiobot-ci"
            )
            yield {"template": packaged.template, "outputs": outputs, "iam": boto3.client("iam")}


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Tried to parse .* by moto's CloudFormation implementation:UserWarning")
def test_deployed_the_profile_carries_the_role_and_the_policy_keeps_its_variable(
    deployed: dict[str, Any],
) -> None:
    template, outputs, client = deployed["template"], deployed["outputs"], deployed["iam"]
    # osls passes the policy on untouched: the policy variable survives packaging
    packaged = template["Resources"]["WorkstationPresenceAgentPolicy"]["Properties"]["PolicyDocument"]
    assert packaged["Statement"][0]["Condition"] == PRESENCE_CONDITIONS
    assert template["Resources"]["WorkstationRole"]["Properties"]["ManagedPolicyArns"] == [SSM_CORE]

    profile = client.get_instance_profile(InstanceProfileName=outputs["WorkstationInstanceProfileName"])
    (role,) = profile["InstanceProfile"]["Roles"]
    assert profile["InstanceProfile"]["Arn"] == outputs["WorkstationInstanceProfileArn"]
    assert client.list_role_policies(RoleName=role["RoleName"])["PolicyNames"] == []
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}

    arn = outputs["WorkstationPresenceAgentPolicyArn"]
    version = client.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    document = client.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    (statement,) = document["Statement"]
    # `${!…}` in `!Sub` is CloudFormation's escape: IAM receives the variable itself, to resolve per request
    assert statement["Condition"]["StringEquals"] == {"aws:ARN": "${ec2:SourceInstanceARN}"}
    assert statement["Resource"] == "arn:aws:ec2:*:123456789012:instance/*"
    entities = client.list_entities_for_policy(PolicyArn=arn)
    assert entities["PolicyRoles"] == entities["PolicyUsers"] == entities["PolicyGroups"] == []


def test_who_stops_workstations_may_ask_them_first_and_only_them(iam: dict[str, Any]) -> None:
    """The sweep, the keep-alive's Stop step and the bot run only the stack's presence document (never a shell
    document, which runs any command), only on workstations."""
    resources = iam["Resources"]
    for role in ("SweepRole", "KeepAliveStopStartedRole", "BotRole"):
        statements = [
            s
            for policy in resources[role]["Properties"]["Policies"]
            for s in policy["PolicyDocument"]["Statement"]
        ]
        sends = [
            s
            for s in statements
            if "ssm:SendCommand" in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
        ]
        documents = [
            r for s in sends for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
        ]
        assert len(sends) == 2, role
        assert "AWS-Run" not in json.dumps(documents)
        assert [r for r in documents if "document/" in json.dumps(r)] == [
            {
                "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:document/${self:custom.prefix}-presence"
            }
        ]
        (on_instances,) = [s for s in sends if "instance/*" in json.dumps(s["Resource"])]
        assert on_instances["Condition"] == {"StringLike": {"ssm:resourceTag/studiobot:workstation": "*"}}
