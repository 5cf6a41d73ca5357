"""The doctor's checks as plain functions over in-memory ports: the arithmetic and the policy reading, no AWS."""

from __future__ import annotations

from dataclasses import dataclass, field

from backend.doctor import checks, workstations
from backend.doctor.checks import Wanted
from backend.doctor.ports import Concurrency, Key, Machine

ACCOUNT = "123456789012"


@dataclass
class Lambda:
    limit: int = 1000
    unreserved: int = 1000
    largest: int = 0

    def concurrency(self) -> Concurrency:
        return Concurrency(self.limit, self.unreserved)

    def largest_memory_mb(self) -> int:
        return self.largest


@dataclass
class Estate:
    keys: dict[str, Key] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def machines(self) -> list[Machine]:
        return []

    def profile_policies(self, profile_arn: str) -> set[str]:
        return set()

    def key(self, key_arn: str) -> Key:
        self.asked.append(key_arn)
        return self.keys[key_arn]


def _wanted(**params: str) -> Wanted:
    return Wanted("prod", params)


def test_renders_must_leave_ten_executions_for_the_bot_and_the_fix_names_a_concurrency_that_fits() -> None:
    assert checks.lambda_concurrency(Lambda(unreserved=110), _wanted(renderConcurrency="100")).ok
    crowded = checks.lambda_concurrency(Lambda(unreserved=109), _wanted(renderConcurrency="100"))
    assert not crowded.ok and 'renderConcurrency=99"' in crowded.fix
    # a new account's 10: half for renders, half for the bot
    assert 'renderConcurrency=5"' in checks.lambda_concurrency(Lambda(10, 10), _wanted()).fix


def test_memory_is_proven_by_a_function_that_has_it_or_by_an_account_past_the_new_account_limits() -> None:
    assert checks.lambda_memory(Lambda(limit=10, unreserved=10, largest=10240), _wanted()).ok
    assert checks.lambda_memory(Lambda(limit=1000), _wanted()).ok
    unsure = checks.lambda_memory(Lambda(limit=50, unreserved=50), _wanted(renderMemoryMb="10240"))
    assert not unsure.ok and not unsure.blocking


def test_a_key_policy_that_delegates_to_iam_or_names_studiobot_lets_the_start_roles_grant() -> None:
    def key(principal: object, action: object = "kms:*", effect: str = "Allow") -> Key:
        statement = {"Effect": effect, "Principal": principal, "Action": action, "Resource": "*"}
        return Key("k", True, [statement])

    root = f"arn:aws:iam::{ACCOUNT}:root"
    assert workstations._delegates_to_iam(key({"AWS": root}), ACCOUNT)
    assert workstations._delegates_to_iam(key({"AWS": [ACCOUNT]}), ACCOUNT)
    assert workstations._delegates_to_iam(key({"AWS": f"arn:aws-cn:iam::{ACCOUNT}:root"}), ACCOUNT)
    role = f"arn:aws:iam::{ACCOUNT}:role/studiobot-prod-BotRole-1AB2"
    assert workstations._delegates_to_iam(key({"AWS": role}, ["kms:CreateGrant"]), ACCOUNT)
    assert not workstations._delegates_to_iam(key({"AWS": role}, ["kms:Decrypt"]), ACCOUNT)
    assert not workstations._delegates_to_iam(key({"AWS": root}, effect="Deny"), ACCOUNT)
    assert not workstations._delegates_to_iam(key({"AWS": "arn:aws:iam::999999999999:root"}), ACCOUNT)
    assert workstations._delegates_to_iam(key("*"), ACCOUNT)  # everyone: the roles too (IAM decides)


def test_aws_managed_keys_pass_and_each_key_is_read_once() -> None:
    estate = Estate({"arn:ebs": Key("ebs", customer_managed=False)})
    machines = [Machine(f"ws{n}", f"i-{n}", "stopped", volume_keys=("arn:ebs",)) for n in range(3)]
    found = workstations.keys(estate, machines, ACCOUNT)
    assert found.ok and "no volume on a customer-managed key" in found.detail
    assert estate.asked == ["arn:ebs"]
