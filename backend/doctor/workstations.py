"""The doctor's checks of the workstations: the SSM agent answers, the profile carries SSM's core policy, and a
customer-managed EBS key lets the roles that start them create grants (else a start silently ends stopped)."""

from __future__ import annotations

from backend.doctor.checks import Check
from backend.doctor.ports import Agents, Estate, Key, Machine

SSM_CORE = "AmazonSSMManagedInstanceCore"


def _names(machines: list[Machine]) -> str:
    shown = ", ".join(f"{m.name} ({m.instance_id})" for m in machines[:10])
    return shown + (f" and {len(machines) - 10} more" if len(machines) > 10 else "")


def agents(estate: Estate, ssm: Agents, machines: list[Machine]) -> Check:
    """Each running workstation's SSM agent is online (studiobot asks it who is connected before a stop)."""
    running = [m for m in machines if m.state == "running"]
    if not running:
        return Check(
            "Workstation agents", True, f"{len(machines)} workstation(s), none running: asked when running"
        )
    online = ssm.managed([m.instance_id for m in running])
    offline = [m for m in running if m.instance_id not in online]
    if not offline:
        return Check("Workstation agents", True, f"{len(running)} running, every agent online")
    detail = f"agent offline on {_names(offline)}: nobody can say who is connected, so it is never stopped"
    fix = "Give it the stack's WorkstationInstanceProfile and make sure the SSM agent runs (README 'Workstations')."
    return Check("Workstation agents", False, detail, fix, blocking=False)


def profiles(estate: Estate, machines: list[Machine]) -> Check:
    """Each workstation's instance profile carries SSM's core policy (what lets its agent register)."""
    lacking = [m for m in machines if not m.profile_arn]
    for machine in machines:
        if machine.profile_arn and not any(
            arn.startswith("arn:aws") and arn.endswith(f":iam::aws:policy/{SSM_CORE}")
            for arn in estate.profile_policies(machine.profile_arn)
        ):
            lacking.append(machine)
    if not lacking:
        return Check("Workstation profiles", True, f"{len(machines)} with {SSM_CORE}")
    fix = (
        f"Attach the stack's WorkstationInstanceProfile (its role has {SSM_CORE}): aws ec2 "
        "associate-iam-instance-profile --instance-id i-… --iam-instance-profile Name=<WorkstationInstanceProfileName>"
    )
    return Check("Workstation profiles", False, f"no {SSM_CORE} on {_names(lacking)}", fix, blocking=False)


def keys(estate: Estate, machines: list[Machine], account: str) -> Check:
    """A customer-managed key on a workstation's volumes lets the account's IAM policies grant its use."""
    seen: dict[str, Key] = {}
    locked: list[str] = []
    customer = 0
    for machine in machines:
        for arn in machine.volume_keys:
            key = seen.get(arn) or seen.setdefault(arn, estate.key(arn))
            if not key.customer_managed:
                continue
            customer += 1
            if not _delegates_to_iam(key, account):
                locked.append(f"{machine.name} (key {key.key_id})")
    if not locked:
        detail = (
            f"{customer} volume(s) on customer-managed keys; their policies let IAM grant them"
            if customer
            else ("no volume on a customer-managed key")
        )
        return Check("Workstation keys", True, detail)
    detail = "the key policy names neither the account nor studiobot's roles: " + ", ".join(locked)
    fix = (
        "A start needs kms:CreateGrant on the volume's key: add to its key policy the roles that start workstations "
        "(the bot's, keepAliveStartDue's) with kms:CreateGrant on condition kms:GrantIsForAWSResource = true, or "
        "the account root (kms:*) so IAM policies decide."
    )
    return Check("Workstation keys", False, detail, fix, blocking=False)


def _delegates_to_iam(key: Key, account: str) -> bool:
    """The key policy lets the account's IAM policies decide, or names studiobot's roles for grants."""
    for statement in key.statements:
        if statement.get("Effect") != "Allow" or not _strings(statement.get("Action")) & {
            "kms:*",
            "kms:CreateGrant",
        }:
            continue
        principal = statement.get("Principal")
        for name in _strings(principal.get("AWS") if isinstance(principal, dict) else principal):
            if name in ("*", account) or name.endswith(f":iam::{account}:root") or "studiobot-" in name:
                return True
    return False


def _strings(value: object) -> set[str]:
    """A policy field that may be one string or a list of them."""
    if isinstance(value, str):
        return {value}
    return {item for item in value if isinstance(item, str)} if isinstance(value, list) else set()
