"""Workstations are EC2 instances found by tag: dozens of them, in every state, in few EC2 calls."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from backend.errors import AwsError, NotFoundError
from backend.workstations.ec2 import (
    TAG_KEEPALIVE,
    TAG_NAME,
    TAG_OWNER,
    TAG_PRESENCE,
    TAG_PRESENCE_AT,
    Ec2Workstations,
)

AMI = "ami-12c6146b"  # one of moto's built-in images


def launch(ec2: Any, count: int, prefix: str, owner: str, extra: dict[str, str] | None = None) -> list[str]:
    tags = [{"Key": TAG_OWNER, "Value": owner}, *({"Key": k, "Value": v} for k, v in (extra or {}).items())]
    ids = []
    for index in range(count):
        response = ec2.run_instances(
            ImageId=AMI,
            MinCount=1,
            MaxCount=1,
            InstanceType="g5.xlarge",
            TagSpecifications=[
                {
                    "ResourceType": "instance",
                    "Tags": [{"Key": TAG_NAME, "Value": f"{prefix}-{index:02d}"}, *tags],
                }
            ],
        )
        ids.append(response["Instances"][0]["InstanceId"])
    return ids


@pytest.fixture
def fleet() -> Iterator[dict[str, list[str]]]:
    """Dozens of workstations: running, stopped, terminated, kept alive, in use; plus an untagged instance."""
    with mock_aws():
        ec2 = boto3.client("ec2", region_name="us-east-1")
        running = launch(ec2, 20, "anim", "U0ANNA")
        stopped = launch(ec2, 15, "comp", "U0CARL")
        ec2.stop_instances(InstanceIds=stopped)
        gone = launch(ec2, 5, "old", "U0OLGA")
        ec2.terminate_instances(InstanceIds=gone)
        kept = launch(ec2, 3, "lead", "U0LEAD", {TAG_KEEPALIVE: "true"})
        agent = '{"studiobot_presence":1,"dcv":true,"connections":[{"user":"liv"}],"idle_s":5}'
        busy = launch(ec2, 2, "live", "U0LIVE", {TAG_PRESENCE: agent, TAG_PRESENCE_AT: "1800000000"})
        ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1)  # a render box, not a workstation
        yield {"running": running, "stopped": stopped, "gone": gone, "kept": kept, "busy": busy}


def test_every_live_workstation_is_found_in_one_call(fleet: dict[str, list[str]]) -> None:
    provider = Ec2Workstations()
    workstations = provider.all()
    assert provider.calls == 1
    assert len(workstations) == 20 + 15 + 3 + 2
    assert [w.name for w in workstations] == sorted(w.name for w in workstations)
    by_name = {w.name: w for w in workstations}
    assert by_name["anim-00"].state == "running" and by_name["anim-00"].owner == "U0ANNA"
    assert by_name["comp-03"].state == "stopped"
    assert by_name["lead-01"].keepalive and not by_name["anim-01"].keepalive
    # the optional agent's tags travel with the workstation (read only when Run Command cannot ask)
    assert (
        by_name["live-00"].presence.startswith('{"studiobot_presence"')
        and by_name["live-00"].presence_at == 1.8e9
    )
    assert by_name["anim-02"].presence == "" and by_name["anim-02"].presence_at is None
    assert "old-00" not in by_name


def test_an_unknown_name_says_which_names_exist(fleet: dict[str, list[str]]) -> None:
    with pytest.raises(NotFoundError, match=r"There is no workstation `anim-99`\. Workstations: `anim-00`"):
        Ec2Workstations().named("anim-99")
    assert Ec2Workstations().named("ANIM-07").name == "anim-07"


def test_starting_and_stopping_many_is_batched(fleet: dict[str, list[str]]) -> None:
    provider = Ec2Workstations()
    provider.stop(fleet["running"] * 60)  # 1,200 ids → two calls
    assert provider.calls == 2
    provider.start(fleet["stopped"])
    assert provider.calls == 3
    states = {w.instance_id: w.state for w in provider.all()}
    assert {states[i] for i in fleet["stopped"]} == {"running"}
    assert {states[i] for i in fleet["running"]} == {"stopped"}


def test_keepalive_is_a_tag(fleet: dict[str, list[str]]) -> None:
    provider = Ec2Workstations()
    provider.set_keepalive(fleet["running"][0], True)
    provider.set_keepalive(fleet["kept"][0], False)
    by_id = {w.instance_id: w for w in provider.all()}
    assert by_id[fleet["running"][0]].keepalive and not by_id[fleet["kept"][0]].keepalive


def test_aws_errors_become_sentences_by_code(fleet: dict[str, list[str]]) -> None:
    with pytest.raises(AwsError) as raised:
        Ec2Workstations().start(["i-0123456789abcdef0"])
    assert raised.value.code == "InvalidInstanceID.NotFound"
    assert str(raised.value) == "Could not start workstations: the workstation's instance no longer exists."
