"""The roles' policies as the packaged template states them, resolved for the tests' stack, and an evaluator that
decides each request the way IAM does (an explicit Deny wins, else an Allow must match, else it is denied)."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tests.iam.requests import ACCOUNT, Request

ROOT = Path(__file__).resolve().parents[2]
PACKAGED_STAGE = "ci"
REGION = "us-east-1"
CACHE = ROOT / "infra" / ".build" / "iam"
OWN_MACHINES_DOC = ROOT / "docs" / "render-nodes.md"
Statement = dict[str, Any]


class UnsupportedCondition(ValueError):
    """A condition operator the evaluator does not know: never guessed as satisfied."""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    why: str
    sid: str = ""


def packaged_template() -> dict[str, Any]:
    """`osls package` of the ci stage (as test_deploy makes it), cached by the hash of what it is made from."""
    inputs = [
        path for pattern in ("*.y*ml", "*.json", "*.js") for path in sorted((ROOT / "infra").glob(pattern))
    ]
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in inputs)).hexdigest()[:16]
    cached = CACHE / f"template-{digest}.json"
    if cached.exists():
        loaded: dict[str, Any] = json.loads(cached.read_text())
        return loaded
    from local.deployer import deploy
    from local.deployer.exclusive import exclusive

    with exclusive(deploy.PACKAGING_LOCK):  # another test process may be packaging it this moment
        if cached.exists():
            return packaged_template()
        template = deploy.package(PACKAGED_STAGE).template
        CACHE.mkdir(parents=True, exist_ok=True)
        written = cached.with_suffix(f".{os.getpid()}.tmp")  # whole or not at all: others may read it
        written.write_text(json.dumps(template))
        os.replace(written, cached)
    return template


class _Resolver:
    """Resolves `Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::If` (GPU nodes on) and `Fn::Join` to the tests' ARNs."""

    def __init__(self, template: dict[str, Any], stack: str) -> None:
        self.resources: dict[str, Any] = template["Resources"]
        self.pseudo = {
            "AWS::Partition": "aws",
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::StackName": stack,
            "AWS::URLSuffix": "amazonaws.com",
        }

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(item) for item in value if item != {"Ref": "AWS::NoValue"}]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self.pseudo.get(argument) or self.attribute(argument, "Ref")
            if key == "Fn::GetAtt":
                logical, name = argument if isinstance(argument, list) else argument.split(".", 1)
                return self.attribute(logical, name)
            if key == "Fn::Sub":
                text, extra = (argument, {}) if isinstance(argument, str) else argument
                return self.substitute(text, {k: self(v) for k, v in extra.items()})
            if key == "Fn::If":
                return self(argument[1])
            if key == "Fn::Join":
                return str(argument[0]).join(str(self(part)) for part in argument[1])
        return {key: self(item) for key, item in value.items()}

    def substitute(self, text: str, extra: dict[str, Any]) -> str:
        def one(match: re.Match[str]) -> str:
            name = match[1]
            if name.startswith("!"):
                return "${" + name[1:] + "}"  # CloudFormation's escape: a policy variable, kept for IAM
            if name in extra:
                return str(extra[name])
            if name in self.pseudo:
                return self.pseudo[name]
            logical, _, attribute = name.partition(".")
            return str(self.attribute(logical, attribute or "Ref"))

        return re.sub(r"\$\{([^}]+)\}", one, text)

    def attribute(self, logical: str, attribute: str) -> str:
        resource = self.resources.get(logical, {})
        kind, properties = resource.get("Type", ""), resource.get("Properties", {})
        prefix = f"arn:aws:{{}}:{REGION}:{ACCOUNT}"

        def name(key: str) -> str:
            return str(self(properties.get(key, f"{self.pseudo['AWS::StackName']}-{logical}")))

        if kind == "AWS::S3::Bucket":
            return name("BucketName") if attribute == "Ref" else f"arn:aws:s3:::{name('BucketName')}"
        if kind == "AWS::DynamoDB::Table":
            return (
                name("TableName")
                if attribute == "Ref"
                else f"{prefix.format('dynamodb')}:table/{name('TableName')}"
            )
        if kind == "AWS::SQS::Queue":
            queue = name("QueueName")
            if attribute == "Ref":
                return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{queue}"
            return queue if attribute == "QueueName" else f"{prefix.format('sqs')}:{queue}"
        if kind == "AWS::SNS::Topic":
            return f"{prefix.format('sns')}:{name('TopicName')}"
        if kind == "AWS::Logs::LogGroup":
            return f"{prefix.format('logs')}:log-group:{name('LogGroupName')}:*"
        if kind == "AWS::Batch::JobQueue":
            return f"{prefix.format('batch')}:job-queue/{name('JobQueueName')}"
        if kind == "AWS::Batch::JobDefinition":
            return f"{prefix.format('batch')}:job-definition/{name('JobDefinitionName')}:1"
        if kind == "AWS::SSM::Document":  # Ref: the document's name
            return name("Name")
        if kind == "AWS::SSM::Parameter":  # Ref: the parameter's name
            return name("Name")
        if kind == "AWS::IAM::Role":
            return f"arn:aws:iam::{ACCOUNT}:role/{name('RoleName')}"
        return f"arn:aws:unresolved:::{logical}.{attribute}"  # matches nothing: a policy naming it grants nothing


def _for_stack(text: str, stack: str) -> str:
    """The ci stage's names (osls resolves `${self:custom.prefix}` when packaging) as the tests' stack has them."""
    stage = stack.removeprefix("studiobot-")
    return text.replace(f"studiobot-{PACKAGED_STAGE}", stack).replace(
        f"/studiobot/{PACKAGED_STAGE}/", f"/studiobot/{stage}/"
    )


@cache
def role_statements(stack: str = "studiobot-local") -> dict[str, list[Statement]]:
    """Every role's inline statements (and the own-machines policy of the docs), resolved for `stack`."""
    template = json.loads(_for_stack(json.dumps(packaged_template()), stack))
    resolve = _Resolver(template, stack)
    roles: dict[str, list[Statement]] = {}
    for logical, resource in template["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        policies = resource["Properties"].get("Policies", [])
        roles[logical] = [s for p in policies for s in resolve(p["PolicyDocument"]["Statement"])]
    roles["OwnMachinesPolicy"] = own_machines_statements(stack)
    return roles


def own_machines_statements(stack: str) -> list[Statement]:
    """docs/render-nodes.md's policy for a studio's own machines, with the two statements the probes need."""
    section = OWN_MACHINES_DOC.read_text().split("### The IAM policy for a studio's machines", 1)[1]
    blocks = re.findall(r"```json\n(.*?)```", section, flags=re.S)[:2]
    stage = stack.removeprefix("studiobot-")
    blocks = [b.replace("REGION", REGION).replace("ACCOUNT", ACCOUNT).replace("STAGE", stage) for b in blocks]
    base: list[Statement] = json.loads(blocks[0])["Statement"]
    probes: list[Statement] = json.loads("[" + blocks[1].strip().rstrip(",") + "]")
    return base + probes


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _like(pattern: str, value: str, case: bool = True) -> bool:
    if not case:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


def _variables(pattern: str, context: dict[str, list[str]]) -> str:
    return re.sub(r"\$\{([^}]+)\}", lambda m: (context.get(m[1].lower()) or ["\0"])[0], pattern)


def _operator_matches(operator: str, expected: str, actual: str) -> bool:
    base = operator.removesuffix("IfExists")
    if base in ("StringEquals", "ArnEquals"):
        return actual == expected
    if base in ("StringLike", "ArnLike"):
        return _like(expected, actual)
    if base == "StringEqualsIgnoreCase":
        return actual.lower() == expected.lower()
    if base == "Bool":
        return actual.lower() == expected.lower()
    raise UnsupportedCondition(operator)


def _condition_holds(operator: str, key: str, expected: list[str], context: dict[str, list[str]]) -> bool:
    values = context.get(key.lower())
    qualifier, _, operator = operator.rpartition(":")
    if operator == "Null":
        return (values is None) == (str(expected[0]).lower() == "true")
    negated = operator.removesuffix("IfExists") in (
        "StringNotEquals",
        "StringNotLike",
        "ArnNotEquals",
        "ArnNotLike",
    )
    positive = operator.replace("Not", "", 1) if negated else operator
    patterns = [_variables(str(item), context) for item in expected]

    def matches(actual: str) -> bool:
        return any(_operator_matches(positive, pattern, actual) for pattern in patterns)

    if qualifier == "ForAllValues":  # true for an absent or empty key, as in IAM
        return all((not matches(v)) if negated else matches(v) for v in values or [])
    if qualifier == "ForAnyValue":
        return any((not matches(v)) if negated else matches(v) for v in values or [])
    if values is None:
        return operator.endswith("IfExists") or negated
    hit = any(matches(v) for v in values)
    return not hit if negated else hit


def applies(statement: Statement, request: Request) -> bool:
    """Whether a statement speaks of this request: its actions, its resources and its conditions."""
    action = request.action
    if "Action" in statement and not any(_like(a, action, case=False) for a in _as_list(statement["Action"])):
        return False
    if "NotAction" in statement and any(
        _like(a, action, case=False) for a in _as_list(statement["NotAction"])
    ):
        return False
    context = {key.lower(): values for key, values in request.context.items()}
    if "Resource" in statement and not any(
        _like(_variables(r, context), request.resource) for r in _as_list(statement["Resource"])
    ):
        return False
    if "NotResource" in statement and any(
        _like(r, request.resource) for r in _as_list(statement["NotResource"])
    ):
        return False
    return all(
        _condition_holds(operator, key, _as_list(expected), context)
        for operator, keys in statement.get("Condition", {}).items()
        for key, expected in keys.items()
    )


def decide(statements: list[Statement], request: Request) -> Decision:
    """IAM's decision for one request under one identity's statements."""
    try:
        denies = [s for s in statements if s["Effect"] == "Deny" and applies(s, request)]
        if denies:
            return Decision(False, f"denied explicitly by {denies[0].get('Sid', 'a Deny')}")
        allows = [s for s in statements if s["Effect"] == "Allow" and applies(s, request)]
    except UnsupportedCondition as error:
        return Decision(False, f"condition operator {error} is not evaluated here")
    if allows:
        sid = allows[0].get("Sid", "?")
        return Decision(True, f"allowed by {sid}", sid)
    return Decision(False, "no statement allows it")
