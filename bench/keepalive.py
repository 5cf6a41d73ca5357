"""Keep-alive benchmark: one expiry sweep over 1,000 workstations in moto, batched vs one instance at a time; the
workstations due for a stop are asked who is connected (Run Command), 50 to a SendCommand, and no other is."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from typing import Any

import boto3

WORKSTATIONS = 1_000
HOUR = 3600.0


class Clock:
    """Time the benchmark moves forward by hand, so every lease lapses at once."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


class Silent:
    """Events go nowhere: the benchmark is about EC2 and DynamoDB calls."""

    def publish(self, event: Any) -> None:
        """Drop the event."""


def _answering(ssm: Any, connected: set[str]) -> Any:
    """The real Run Command adapter on moto, with what each workstation's script would print (moto runs nothing):
    nobody connected, except on `connected` instances."""
    from backend.workstations.asking import Invocation

    class Answering(type(ssm)):  # type: ignore[misc]
        def results(self, command_id: str) -> dict[str, Invocation]:
            answers = {}
            for instance_id, invocation in super().results(command_id).items():
                who = '[{"user": "anna"}]' if instance_id in connected else "[]"
                output = '{"studiobot_presence": 1, "dcv": true, "connections": ' + who + ', "idle_s": 60}'
                answers[instance_id] = Invocation(invocation.status, output)
            return answers

    return Answering()


def _fleet(ec2: Any) -> list[str]:
    from backend.workstations.ec2 import TAG_NAME, TAG_OWNER

    boto3.client("iam").create_instance_profile(InstanceProfileName="studiobot-workstation")
    ids: list[str] = []
    for start in range(0, WORKSTATIONS, 100):
        reservation = ec2.run_instances(
            ImageId="ami-12c6146b",
            MinCount=100,
            MaxCount=100,
            InstanceType="g5.xlarge",
            IamInstanceProfile={"Name": "studiobot-workstation"},  # its SSM agent answers
        )
        for offset, instance in enumerate(reservation["Instances"]):
            ids.append(instance["InstanceId"])
            if "IamInstanceProfile" not in instance:  # moto gives the profile to the first of a batch only
                ec2.associate_iam_instance_profile(
                    IamInstanceProfile={"Name": "studiobot-workstation"}, InstanceId=instance["InstanceId"]
                )
            ec2.create_tags(
                Resources=[instance["InstanceId"]],
                Tags=[
                    {"Key": TAG_NAME, "Value": f"ws-{start + offset:04d}"},
                    {"Key": TAG_OWNER, "Value": "U0ANNA"},
                ],
            )
    return ids


def _seed_style(ec2: Any, ids: list[str]) -> int:
    """What the seed did: look at each session on its own, and stop each on its own."""
    calls = 0
    for instance_id in ids:
        described = ec2.describe_instances(InstanceIds=[instance_id])
        calls += 1
        state = described["Reservations"][0]["Instances"][0]["State"]["Name"]
        if state == "running":
            ec2.stop_instances(InstanceIds=[instance_id])
            calls += 1
    return calls


def run() -> dict[str, Any]:
    """Measure both sweeps on identical fleets; return keepalive.json."""
    from moto import mock_aws

    from backend.config import Access
    from backend.workstations.asking import SessionAsker
    from backend.workstations.ec2 import Ec2Workstations
    from backend.workstations.leases import DynamoLeases
    from backend.workstations.service import WorkstationService
    from backend.workstations.ssm import SsmCommands
    from local.embedded import moto_patches
    from local.embedded.stack import deploy

    moto_patches.apply()
    # In-process moto: an endpoint left by an earlier benchmark's server would send the calls there instead.
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "testing")
    with mock_aws():
        info = deploy(None, stack_name="studiobot-bench")
        ec2 = boto3.client("ec2")
        ids = _fleet(ec2)
        clock = Clock()
        provider = Ec2Workstations(ec2)
        leases = DynamoLeases(info.table_name, clock=clock)
        ssm = _answering(SsmCommands(), connected=set(ids[:10]))
        asker = SessionAsker(ssm, clock=clock, sleep=lambda seconds: None)
        service = WorkstationService(provider, leases, Silent(), Access(), clock=clock, asker=asker)
        service.status()  # leases begin
        for index in range(WORKSTATIONS // 2, WORKSTATIONS):  # half were extended: not due for a stop
            leases.extend(f"ws-{index:04d}", timedelta(hours=8))
        clock.now += 12 * HOUR  # the other half's sessions have lapsed
        provider.calls, leases.calls = 0, 0
        started = time.perf_counter()
        report = service.sweep()
        sweep_s = time.perf_counter() - started
        asked = {instance_id for batch in ssm.sent for instance_id in batch}
        due = set(ids[: WORKSTATIONS // 2])
        result = {
            "workstations": WORKSTATIONS,
            "due": len(due),
            "stopped": len(report.stopped),
            "left_in_use": len(report.left_in_use),
            "ec2_calls": provider.calls,
            "ec2_calls_target": 5,
            "dynamodb_calls": leases.calls,
            "ssm_calls": dict(ssm.calls),
            "ssm_send_commands": ssm.calls.get("SendCommand", 0),
            "ssm_send_commands_target": -(-len(due) // 50),
            "asked": len(asked),
            "asked_not_due": len(asked - due),
            "sweep_s": round(sweep_s, 2),
        }
    with mock_aws():
        ec2 = boto3.client("ec2")
        ids = _fleet(ec2)
        started = time.perf_counter()
        result["seed_style_ec2_calls"] = _seed_style(ec2, ids)
        result["seed_style_s"] = round(time.perf_counter() - started, 2)
    result["speedup"] = round(result["seed_style_s"] / max(result["sweep_s"], 1e-9), 1)
    return result
