"""Who may read the Slack secrets and what may run on workstations, decided over the packaged template as AWS would:
every role and managed policy in it, and the studio's own machines' policy (docs/render-nodes.md), evaluated by
tests/iam_policy.py against reading `/studiobot/<stage>/*` (and decrypting it with its key), and against
`ssm:SendCommand` with our presence document, AWS's shell documents, and tagged and untagged instances."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from backend.workstations.document import document_name, presence_document
from tests.aws_policies import AWS_MANAGED, AWS_SSM_KEY_POLICY
from tests.iam.policy import PACKAGED_STAGE, packaged_template
from tests.iam_policy import ACCOUNT, REGION, allowed, identities, key_allows, resolve

pytestmark = pytest.mark.slow  # runs `osls package`
STAGE = PACKAGED_STAGE
DOCS = Path(__file__).resolve().parents[2] / "docs" / "render-nodes.md"
PARAMETER = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/studiobot/{STAGE}"
SIGNING_SECRET, BOT_TOKEN = f"{PARAMETER}/slack-signing-secret", f"{PARAMETER}/slack-bot-token"
OWN_MACHINES = f"arn:aws:iam::{ACCOUNT}:user/studiobot-node"  # whoever the docs' policy is attached to

ASKERS = {"BotRole", "SweepRole", "KeepAliveStopStartedRole"}  # who asks workstations before stopping them


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return packaged_template()  # the ci stage's, packaged once for the IAM checker too


def _own_machines_policy() -> list[dict[str, Any]]:
    """The statements of docs/render-nodes.md's policy for a studio's machines, the optional probe ones included."""
    text = DOCS.read_text().replace("REGION", REGION).replace("ACCOUNT", ACCOUNT).replace("STAGE", STAGE)
    blocks = re.findall(r"```json\n(.*?)```", text, re.DOTALL)
    statements: list[dict[str, Any]] = []
    for block in blocks:
        parsed = json.loads(block) if block.startswith("{") else json.loads(f"[{block}]")
        statements += parsed["Statement"] if isinstance(parsed, dict) else parsed
    assert len(statements) >= 8, "the docs' policy was not found"
    return statements


@pytest.fixture(scope="module")
def principals(template: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found = identities(template, AWS_MANAGED)
    found[OWN_MACHINES] = _own_machines_policy()
    return found


def _short(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _secrets_key(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The key `make deploy` and the README put the SecureStrings under: the stage's alias, else `aws/ssm`."""
    for item in template["Resources"].values():
        properties = item.get("Properties", {})
        if item["Type"] == "AWS::KMS::Alias" and properties["AliasName"] == f"alias/studiobot-{STAGE}":
            key = properties["TargetKeyId"]["Ref"]
            policy = resolve(template["Resources"][key]["Properties"]["KeyPolicy"], template)
            return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key}", policy
    return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/aws-ssm", AWS_SSM_KEY_POLICY


def _reads(
    template: dict[str, Any], principal: str, statements: list[dict[str, Any]], parameter: str
) -> bool:
    """Whether a principal gets the parameter's value: an SSM read of it, and SSM decrypting it for them."""
    read = any(
        allowed(statements, action, parameter) for action in ("ssm:GetParameter", "ssm:GetParameters")
    ) or allowed(statements, "ssm:GetParametersByPath", parameter.rsplit("/", 1)[0])
    key_arn, key_policy = _secrets_key(template)
    context = {
        "kms:ViaService": f"ssm.{REGION}.amazonaws.com",
        "kms:CallerAccount": ACCOUNT,
        "kms:EncryptionContext:PARAMETER_ARN": parameter,
    }
    return read and key_allows(key_policy, principal, statements, "kms:Decrypt", key_arn, context)


def test_only_the_functions_that_talk_to_slack_can_read_its_secrets(
    template: dict[str, Any], principals: dict[str, list[dict[str, Any]]]
) -> None:
    """The bot checks signatures and posts; the notifier and its redrive post (token only). No workstation, node,
    other function or the studio's machines, whatever their policy lets them ask SSM."""
    evaluated = {_short(arn) for arn in principals}
    assert (
        len(evaluated) > 15
        and {
            "WorkstationRole",
            "GpuNodeInstanceRole",
            "GpuNodeJobRole",
            "GpuNodeExecutionRole",
            "WorkstationPresenceAgentPolicy",
            "studiobot-node",  # the studio's own machines (docs/render-nodes.md)
        }
        <= evaluated
    )
    readers = {
        parameter: {
            _short(arn)
            for arn, statements in principals.items()
            if _reads(template, arn, statements, parameter)
        }
        for parameter in (SIGNING_SECRET, BOT_TOKEN)
    }
    assert readers == {
        SIGNING_SECRET: {"BotRole"},
        BOT_TOKEN: {"BotRole", "NotifierRole", "NoticeRedriveRole"},
    }
    # the workstation role may still ask SSM for the parameter (AmazonSSMManagedInstanceCore), but gets ciphertext
    workstation = principals[f"arn:aws:iam::{ACCOUNT}:role/WorkstationRole"]
    assert allowed(workstation, "ssm:GetParameter", SIGNING_SECRET)


def test_the_key_is_decrypted_by_no_one_else_not_even_an_administrator(template: dict[str, Any]) -> None:
    key_arn, key_policy = _secrets_key(template)
    administrator = [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    context = {
        "kms:ViaService": f"ssm.{REGION}.amazonaws.com",
        "kms:EncryptionContext:PARAMETER_ARN": SIGNING_SECRET,
    }
    admin = f"arn:aws:iam::{ACCOUNT}:role/Administrator"
    for action in ("kms:Decrypt", "kms:ReEncryptFrom", "kms:CreateGrant"):
        assert not key_allows(key_policy, admin, administrator, action, key_arn, context), action
    # but administers it, and puts the secrets (`aws ssm put-parameter --key-id alias/studiobot-<stage>`)
    for action in ("kms:Encrypt", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DescribeKey"):
        assert key_allows(key_policy, admin, administrator, action, key_arn, context), action
    # the bot decrypts only through SSM, and only this stage's parameters
    bot = f"arn:aws:iam::{ACCOUNT}:role/BotRole"
    elsewhere = {
        **context,
        "kms:EncryptionContext:PARAMETER_ARN": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/x",
    }
    assert key_allows(key_policy, bot, [], "kms:Decrypt", key_arn, context)
    assert not key_allows(key_policy, bot, [], "kms:Decrypt", key_arn, elsewhere)
    assert not key_allows(key_policy, bot, [], "kms:Decrypt", key_arn, {**context, "kms:ViaService": "s3"})
    rotation = next(item for item in template["Resources"].values() if item["Type"] == "AWS::KMS::Key")
    assert rotation["Properties"]["EnableKeyRotation"] is True


def test_no_policy_names_a_document_that_runs_any_command(template: dict[str, Any]) -> None:
    policies = [
        item
        for item in template["Resources"].values()
        if item["Type"] in ("AWS::IAM::Role", "AWS::IAM::ManagedPolicy", "AWS::IAM::Policy")
    ]
    text = json.dumps(policies) + json.dumps(_own_machines_policy())
    assert "AWS-RunShellScript" not in text and "AWS-RunPowerShellScript" not in text


def test_send_command_reaches_only_our_document_on_tagged_workstations(
    principals: dict[str, list[dict[str, Any]]],
) -> None:
    ours = f"arn:aws:ssm:{REGION}:{ACCOUNT}:document/{document_name(STAGE)}"
    documents = {
        "ours": ours,
        "shell": f"arn:aws:ssm:{REGION}::document/AWS-RunShellScript",
        "powershell": f"arn:aws:ssm:{REGION}::document/AWS-RunPowerShellScript",
        "another of this account": f"arn:aws:ssm:{REGION}:{ACCOUNT}:document/studiobot-{STAGE}-other",
    }
    instance = f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-0123456789abcdef0"
    tagged = {"ssm:resourceTag/studiobot:workstation": "U0ANNA"}

    def senders(resource: str, context: dict[str, str] | None = None) -> set[str]:
        return {
            _short(arn) for arn, s in principals.items() if allowed(s, "ssm:SendCommand", resource, context)
        }

    assert {kind: senders(arn) for kind, arn in documents.items()} == {
        "ours": ASKERS,
        "shell": set(),
        "powershell": set(),
        "another of this account": set(),
    }
    assert senders(instance, tagged) == ASKERS
    assert senders(instance) == set()  # an instance that is not a studiobot workstation


def test_the_presence_document_in_the_template_is_the_scripts(template: dict[str, Any]) -> None:
    (name,) = [n for n, item in template["Resources"].items() if item["Type"] == "AWS::SSM::Document"]
    properties = template["Resources"][name]["Properties"]
    assert properties["Name"] == document_name(STAGE)
    assert properties["DocumentType"] == "Command" and properties["TargetType"] == "/AWS::EC2::Instance"
    assert resolve(properties["Content"], template) == presence_document()  # byte for byte, once CFN joins it
    assert "${" not in json.dumps(properties["Content"]).replace("${AWS::", "")


def test_only_the_functions_that_post_or_check_download_links_can_read_their_key(
    template: dict[str, Any], principals: dict[str, list[dict[str, Any]]]
) -> None:
    """Anyone holding the links' key could sign a link to any job's frames: no workstation, node or other function
    may read it, whatever their policy lets them ask SSM (it is moved onto the stage's key like the Slack secrets)."""
    link_key = f"{PARAMETER}/link-signing-key"
    readers = {
        _short(arn) for arn, statements in principals.items() if _reads(template, arn, statements, link_key)
    }
    assert readers == {"BotRole", "NotifierRole", "NoticeRedriveRole", "LinksRole"}
    assert allowed(principals[f"arn:aws:iam::{ACCOUNT}:role/WorkstationRole"], "ssm:GetParameter", link_key)
