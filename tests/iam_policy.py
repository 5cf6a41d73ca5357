"""A small IAM evaluator for tests over the packaged template: who may do an action on a resource, as AWS decides it
(an explicit Deny wins, then any Allow, else denied), with wildcards in actions and resources, `NotAction`,
`NotResource`, the condition operators the template uses, and a KMS key policy's delegation to the account.

It reads the template's own roles, managed policies and key policies; AWS managed policies come from fixtures the
test supplies (their real statements), and an unknown one is an error rather than nothing granted."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

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


def like(pattern: str, value: str, case_sensitive: bool = True) -> bool:
    """IAM's wildcard match: `*` any run of characters, `?` any one."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, 0 if case_sensitive else re.IGNORECASE) is not None


def _matches_any(patterns: Any, value: str, case_sensitive: bool = True) -> bool:
    return any(like(str(pattern), value, case_sensitive) for pattern in _listed(patterns))


def _condition_holds(condition: Mapping[str, Any], context: Context) -> bool:
    for operator, tests in condition.items():
        for key, wanted in tests.items():
            present = key in context
            if operator == "Null":
                if (str(wanted).lower() == "true") == present:
                    return False
                continue
            if not present:
                return False  # a condition on a key the request does not carry does not hold
            got = context[key]
            if operator in ("StringEquals", "ArnEquals", "ForAllValues:StringEquals"):
                ok = got in [str(item) for item in _listed(wanted)]
            elif operator in ("StringLike", "ArnLike", "ForAllValues:StringLike"):
                ok = _matches_any(wanted, got)
            elif operator == "Bool":
                ok = got.lower() == str(wanted).lower()
            else:
                raise NotImplementedError(f"condition operator {operator} (teach tests/iam_policy.py)")
            if not ok:
                return False
    return True


def applies(statement: Statement, action: str, resource: str, context: Context) -> bool:
    """Whether a statement speaks of this request: its actions, its resources and its conditions."""
    if "Action" in statement:
        if not _matches_any(statement["Action"], action, case_sensitive=False):
            return False
    elif _matches_any(statement["NotAction"], action, case_sensitive=False):
        return False
    if "Resource" in statement:
        if not _matches_any(statement["Resource"], resource):
            return False
    elif "NotResource" in statement and _matches_any(statement["NotResource"], resource):
        return False
    return _condition_holds(statement.get("Condition", {}), context)


def decide(statements: list[Statement], action: str, resource: str, context: Context | None = None) -> str:
    """`deny` (an explicit Deny applies), `allow` (an Allow does and no Deny), or `implicit` (nothing applies)."""
    found = [s["Effect"] for s in statements if applies(s, action, resource, context or {})]
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
