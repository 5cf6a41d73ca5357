"""A small IAM evaluator for tests over the packaged template: who may do an action on a resource, as AWS decides it
(an explicit Deny wins, then any Allow, else denied), with a KMS key policy's delegation to the account; each
statement is matched by `tests.iam.policy.applies`, the checker the IAM-enforced tests use (wildcards, `NotAction`,
`NotResource`, condition operators).

It reads the template's own roles, managed policies and key policies; AWS managed policies come from fixtures the
test supplies (their real statements), and an unknown one is an error rather than nothing granted."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tests.iam.policy import applies
from tests.iam.requests import Request

PARTITION, REGION, ACCOUNT = "aws", "us-east-1", "123456789012"
ROOT = f"arn:{PARTITION}:iam::{ACCOUNT}:root"
Statement = dict[str, Any]
Context = Mapping[str, str]

# How a resource's ARN is spelt by type, with its logical id standing in for its name.
_ARNS = {
    "AWS::IAM::Role": "arn:aws:iam::{account}:role/{name}",
    "AWS::IAM::ManagedPolicy": "arn:aws:iam::{account}:policy/{name}",
    "AWS::SQS::Queue": "arn:aws:sqs:{region}:{account}:{name}",
    "AWS::SNS::Topic": "arn:aws:sns:{region}:{account}:{name}",
    "AWS::DynamoDB::Table": "arn:aws:dynamodb:{region}:{account}:table/{name}",
    "AWS::S3::Bucket": "arn:aws:s3:::{name}",
    "AWS::KMS::Key": "arn:aws:kms:{region}:{account}:key/{name}",
    "AWS::Lambda::Function": "arn:aws:lambda:{region}:{account}:function:{name}",
    "AWS::SSM::Document": "arn:aws:ssm:{region}:{account}:document/{name}",
}
_PSEUDO = {
    "AWS::Partition": PARTITION,
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::URLSuffix": "amazonaws.com",
}
_REFS_ARE_ARNS = {"AWS::SNS::Topic", "AWS::IAM::ManagedPolicy"}


def arn_of(template: dict[str, Any], logical_id: str) -> str:
    """A resource's ARN as the evaluator spells it (its logical id as its name)."""
    kind = template["Resources"][logical_id]["Type"]
    pattern = _ARNS.get(kind, "arn:aws:unknown:{region}:{account}:{name}")
    return pattern.format(account=ACCOUNT, region=REGION, name=logical_id)


def _ref(template: dict[str, Any], name: str) -> str:
    if name in _PSEUDO:
        return _PSEUDO[name]
    resource = template["Resources"][name]
    if resource["Type"] in _REFS_ARE_ARNS:
        return arn_of(template, name)
    return str(
        resource.get("Properties", {}).get("Name") or resource.get("Properties", {}).get("AliasName") or name
    )


def resolve(value: Any, template: dict[str, Any]) -> Any:
    """`value` with CloudFormation's intrinsic functions applied (conditions taken as true: the widest deployment)."""
    if isinstance(value, list):
        return [resolve(item, template) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (function, argument), *_ = value.items()
        if function == "Ref":
            return _ref(template, argument)
        if function == "Fn::GetAtt":
            return arn_of(template, argument[0])
        if function == "Fn::If":
            return resolve(argument[1], template)
        if function == "Fn::Join":
            return str(argument[0]).join(str(resolve(item, template)) for item in argument[1])
        if function == "Fn::Sub":
            return _sub(argument, template)
    return {key: resolve(item, template) for key, item in value.items()}


def _sub(argument: Any, template: dict[str, Any]) -> str:
    text, variables = (argument, {}) if isinstance(argument, str) else argument

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name in variables:
            return str(resolve(variables[name], template))
        if name.endswith(".Arn"):
            return arn_of(template, name[: -len(".Arn")])
        return _ref(template, name)

    return re.sub(r"\$\{([^}]+)\}", one, text)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def decide(statements: list[Statement], action: str, resource: str, context: Context | None = None) -> str:
    """`deny` (an explicit Deny applies), `allow` (an Allow does and no Deny), or `implicit` (nothing applies)."""
    request = Request(action, resource, {key: [value] for key, value in (context or {}).items()})
    found = [s["Effect"] for s in statements if applies(s, request)]
    return "deny" if "Deny" in found else "allow" if "Allow" in found else "implicit"


def allowed(statements: list[Statement], action: str, resource: str, context: Context | None = None) -> bool:
    """An identity policy's answer alone."""
    return decide(statements, action, resource, context) == "allow"


def _names(statement: Statement, principal_arn: str) -> bool:
    aws = statement.get("Principal", {})
    listed = [str(item) for item in _listed(aws.get("AWS", []))] if isinstance(aws, dict) else [str(aws)]
    return "*" in listed or principal_arn in listed


def key_allows(
    key_policy: dict[str, Any],
    principal_arn: str,
    identity: list[Statement],
    action: str,
    key_arn: str,
    context: Context | None = None,
) -> bool:
    """What KMS decides for a principal of this account: the key policy names it, or names the account (root) and
    the principal's own policy allows it too; an explicit Deny in either wins."""
    context = context or {}
    statements = key_policy["Statement"]
    if decide(identity, action, key_arn, context) == "deny":
        return False
    for_principal = [s for s in statements if _names(s, principal_arn)]
    if decide(for_principal, action, key_arn, context) == "deny":
        return False
    if decide(for_principal, action, key_arn, context) == "allow":
        return True
    for_account = [s for s in statements if _names(s, ROOT)]
    return decide(for_account, action, key_arn, context) == "allow" and allowed(
        identity, action, key_arn, context
    )


def identities(
    template: dict[str, Any], aws_managed: Mapping[str, list[Statement]]
) -> dict[str, list[Statement]]:
    """Every role's statements (inline, attached managed, and policies naming it) and every managed policy's own,
    resolved; `aws_managed`: AWS managed policies by name, as the test copies them from AWS."""
    resources = template["Resources"]
    managed = {
        arn_of(template, name): resolve(item["Properties"]["PolicyDocument"], template)["Statement"]
        for name, item in resources.items()
        if item["Type"] == "AWS::IAM::ManagedPolicy"
    }
    found: dict[str, list[Statement]] = {}
    for name, item in resources.items():
        properties = item.get("Properties", {})
        if item["Type"] == "AWS::IAM::Role":
            statements = [
                statement
                for policy in resolve(properties.get("Policies", []), template)
                for statement in policy["PolicyDocument"]["Statement"]
            ]
            for arn in resolve(properties.get("ManagedPolicyArns", []), template):
                if arn in managed:
                    statements += managed[arn]
                else:
                    short = arn.split(":policy/", 1)[1].rsplit("/", 1)[-1]
                    if short not in aws_managed:
                        raise KeyError(f"{name} carries {arn}: add its statements to the test's fixtures")
                    statements += aws_managed[short]
            found[arn_of(template, name)] = statements
        elif item["Type"] == "AWS::IAM::ManagedPolicy":
            found[arn_of(template, name)] = managed[arn_of(template, name)]
    # stand-alone policies, and managed policies attached to the template's roles
    for item in resources.values():
        if item["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for role in resolve(item["Properties"].get("Roles", []), template):
                statements = resolve(item["Properties"]["PolicyDocument"], template)["Statement"]
                found[f"arn:aws:iam::{ACCOUNT}:role/{role}"] += statements
    return found
