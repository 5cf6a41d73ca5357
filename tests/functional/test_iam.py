"""The IAM harness (tests/iam) itself: each component is checked under the role the packaged template gives it,
calls become the authorisations AWS makes, the evaluator refuses what IAM refuses, and no identity is granted a `*`
action or a `*` resource unless AWS cannot scope that action."""

from __future__ import annotations

from typing import Any

import pytest

from tests.iam.harness import ENTRY_POINTS, ROLES
from tests.iam.policy import decide, packaged_template, role_statements
from tests.iam.requests import Call, Request, requests_for

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/studiobot-local-jobs"
INSTANCE = "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0"
# Actions whose Service Authorization Reference entry lists no resource type: only `"Resource": "*"` can grant them.
UNSCOPABLE = {
    "ec2:DescribeInstances",  # EC2's Describe* calls take no resource-level permission
    "ec2:DescribeSpotPriceHistory",
    "ssm:DescribeInstanceInformation",  # which workstations have an SSM agent online
    "ssm:ListCommandInvocations",  # a presence check's answer
    "ecr:GetAuthorizationToken",  # the gpu node's image pull (execution role)
    "lambda:ListEventSourceMappings",  # the priority lanes' scheduler finds the render function's sources
}


def _allowed(role: str, request: Request) -> bool:
    return decide(role_statements()[role], request).allowed


def _no_tags(ids: list[str]) -> dict[str, dict[str, str]]:
    return {}


def test_each_function_and_the_gpu_node_is_checked_under_its_own_role_in_the_template() -> None:
    resources = packaged_template()["Resources"]
    functions = {
        logical.removesuffix("LambdaFunction"): item["Properties"]["Role"]["Fn::GetAtt"][0]
        for logical, item in resources.items()
        if item["Type"] == "AWS::Lambda::Function"
    }
    by_component = {name[0].upper() + name[1:]: roles for name, roles in ROLES.items()}
    assert {name: by_component[name] for name in functions} == {
        name: [role] for name, role in functions.items()
    }
    node = resources["GpuJobDefinition"]["Properties"]["ContainerProperties"]
    assert node["Command"][:3] == ["python", "-m", "entry.node"]
    assert ROLES["node"] == [node["JobRoleArn"]["Fn::GetAtt"][0], "OwnMachinesPolicy"]
    assert set(ENTRY_POINTS) == set(ROLES)
    # every Lambda handler the template names is an entry point (the bot's: Bolt's dispatch, which it calls)
    handlers = {
        item["Properties"].get("Handler")
        for item in resources.values()
        if "Handler" in item.get("Properties", {})
    }
    marked = {
        target.replace(".", "/").replace(":", ".") for targets in ENTRY_POINTS.values() for target in targets
    }
    # the bot's handler builds its app on import: its entry point is the app's dispatch, which the handler calls
    assert handlers - marked == {"entry/slack.handler"}


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (
            Call("s3", "HeadObject", {"Bucket": "b", "Key": "scenes/a.blend"}, "us-east-1"),
            [("s3:GetObject", "arn:aws:s3:::b/scenes/a.blend", {})],
        ),
        (
            Call("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "scenes/x/"}, "us-east-1"),
            [("s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": ["scenes/x/"]})],
        ),
        (
            Call(
                "s3",
                "CopyObject",
                {"Bucket": "b", "Key": "previews/z", "CopySource": {"Bucket": "b", "Key": "outputs/f"}},
                "us-east-1",
            ),
            [
                ("s3:PutObject", "arn:aws:s3:::b/previews/z", {}),
                ("s3:GetObject", "arn:aws:s3:::b/outputs/f", {}),
            ],
        ),
        (
            Call(
                "sqs",
                "SendMessageBatch",
                {"QueueUrl": "http://127.0.0.1:5000/123456789012/q", "Entries": []},
                "us-east-1",
            ),
            [("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:q", {})],
        ),
        (
            Call(
                "dynamodb",
                "TransactWriteItems",
                {
                    "TransactItems": [
                        {"Put": {"TableName": "t", "Item": {"pk": {"S": "JOB#1"}}}},
                        {"ConditionCheck": {"TableName": "t", "Key": {"pk": {"S": "SETTINGS"}}}},
                    ]
                },
                "us-east-1",
            ),
            [
                (
                    "dynamodb:PutItem",
                    "arn:aws:dynamodb:us-east-1:123456789012:table/t",
                    {"dynamodb:LeadingKeys": ["JOB#1"]},
                ),
                (
                    "dynamodb:ConditionCheckItem",
                    "arn:aws:dynamodb:us-east-1:123456789012:table/t",
                    {"dynamodb:LeadingKeys": ["SETTINGS"]},
                ),
            ],
        ),
        (
            Call(
                "dynamodb",
                "Query",
                {
                    "TableName": "t",
                    "IndexName": "by_outbox",
                    "KeyConditionExpression": "#o = :o AND outbox_at < :t",
                    "ExpressionAttributeNames": {"#o": "outbox"},
                    "ExpressionAttributeValues": {":o": {"S": "due"}, ":t": {"N": "1"}},
                },
                "us-east-1",
            ),
            [
                (
                    "dynamodb:Query",
                    "arn:aws:dynamodb:us-east-1:123456789012:table/t/index/by_outbox",
                    {"dynamodb:LeadingKeys": ["due"]},
                )
            ],
        ),
        (
            Call(
                "ssm",
                "SendCommand",
                {"DocumentName": "AWS-RunShellScript", "InstanceIds": ["i-1"]},
                "us-east-1",
            ),
            [
                ("ssm:SendCommand", "arn:aws:ssm:us-east-1::document/AWS-RunShellScript", {}),
                ("ssm:SendCommand", "arn:aws:ec2:us-east-1:123456789012:instance/i-1", {}),
            ],
        ),
        (Call("sts", "GetCallerIdentity", {}, "us-east-1"), []),
    ],
)
def test_a_call_becomes_the_authorisations_aws_makes(
    call: Call, expected: list[tuple[str, str, dict[str, Any]]]
) -> None:
    assert [(r.action, r.resource, r.context) for r in requests_for(call, _no_tags)] == expected


def test_the_evaluator_refuses_what_iam_refuses() -> None:
    job, guard = {"dynamodb:LeadingKeys": ["JOB#r1"]}, {"dynamodb:LeadingKeys": ["SETTINGS"]}
    assert _allowed("RenderRole", Request("dynamodb:PutItem", TABLE, job))
    assert not _allowed("RenderRole", Request("dynamodb:PutItem", TABLE, guard))  # the guard is not a frame
    assert not _allowed("RenderRole", Request("dynamodb:PutItem", TABLE.replace("local", "prod"), job))
    assert _allowed("RenderRole", Request("dynamodb:GetItem", TABLE, guard))
    assert not _allowed("SweepRole", Request("dynamodb:PutItem", TABLE, job))  # leases only
    scenes = "arn:aws:s3:::studiobot-local-scenes-123456789012"
    assert _allowed("BotRole", Request("s3:ListBucket", scenes, {"s3:prefix": ["scenes/shot/"]}))
    assert not _allowed("BotRole", Request("s3:ListBucket", scenes))  # no prefix: the whole bucket
    assert not _allowed("BotRole", Request("s3:GetObject", scenes + "/other/x"))
    tagged = {"aws:ResourceTag/studiobot:workstation": ["true"]}
    assert _allowed("SweepRole", Request("ec2:StopInstances", INSTANCE, tagged))
    assert not _allowed("SweepRole", Request("ec2:StopInstances", INSTANCE))  # not a workstation
    assert not _allowed("KeepAliveStartDueRole", Request("ec2:StopInstances", INSTANCE, tagged))
    token = "arn:aws:ssm:us-east-1:123456789012:parameter/studiobot/local/slack-"
    assert _allowed("NotifierRole", Request("ssm:GetParameter", token + "bot-token"))
    assert not _allowed("NotifierRole", Request("ssm:GetParameter", token + "signing-secret"))
    assert not _allowed("OwnMachinesPolicy", Request("batch:SubmitJob", "*"))
    keep = {**tagged, "aws:TagKeys": ["studiobot:keepalive"]}
    assert _allowed("BotRole", Request("ec2:CreateTags", INSTANCE, keep))
    assert not _allowed(
        "BotRole", Request("ec2:CreateTags", INSTANCE, {**keep, "aws:TagKeys": ["studiobot:workstation"]})
    )
    deny = {"Effect": "Deny", "Action": "ssm:GetParameter", "Resource": "*"}
    allow = {"Effect": "Allow", "Action": "ssm:*", "Resource": "*"}
    assert not decide([allow, deny], Request("ssm:GetParameter", token + "bot-token")).allowed  # a Deny wins
    odd = {
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": "*",
        "Condition": {"DateLessThan": {"aws:CurrentTime": "2030"}},
    }
    assert not decide([odd], Request("s3:GetObject", scenes + "/x")).allowed  # never guessed as satisfied


def _identities() -> dict[str, list[dict[str, Any]]]:
    identities = dict(role_statements())
    for logical, item in packaged_template()["Resources"].items():
        if item["Type"] == "AWS::IAM::ManagedPolicy":
            identities[logical] = item["Properties"]["PolicyDocument"]["Statement"]
    return identities


def _too_wide(identities: dict[str, list[dict[str, Any]]]) -> list[str]:
    wide = []
    for identity, statements in identities.items():
        for statement in statements:
            actions = statement.get("Action", [])
            actions = actions if isinstance(actions, list) else [actions]
            resources = statement.get("Resource", [])
            resources = resources if isinstance(resources, list) else [resources]
            wide += [f"{identity} {statement.get('Sid')}: action {a}" for a in actions if "*" in a]
            if "NotAction" in statement or "NotResource" in statement:
                wide.append(f"{identity} {statement.get('Sid')}: NotAction/NotResource")
            if "*" in resources and not set(actions) <= UNSCOPABLE:
                wide.append(f"{identity} {statement.get('Sid')}: {sorted(set(actions) - UNSCOPABLE)} on *")
    return wide


def test_no_identity_is_granted_a_wildcard_action_or_every_resource_unless_aws_cannot_scope_it() -> None:
    identities = _identities()
    assert {"OwnMachinesPolicy", "GpuNodeJobRole", "BotRole", "WorkstationPresenceAgentPolicy"} <= set(
        identities
    )
    assert _too_wide(identities) == []
    # what it refuses: a wildcard action, and a scopable action on every resource
    widened = {
        "BotRole": [{"Sid": "X", "Effect": "Allow", "Action": ["s3:Get*", "sns:Publish"], "Resource": "*"}]
    }
    assert _too_wide(widened) == ["BotRole X: action s3:Get*", "BotRole X: ['s3:Get*', 'sns:Publish'] on *"]
