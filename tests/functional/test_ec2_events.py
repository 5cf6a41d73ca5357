"""EC2's own news about workstations (spot interruptions, state changes) as channel alerts."""

from __future__ import annotations

import json
from pathlib import Path

import boto3

from backend.workstations.ec2 import Ec2Workstations
from backend.workstations.ec2_events import alert_for
from bot.messages import message_text

from .conftest import Stack
from .test_workstation_provider import AMI, launch

EVENTS = Path(__file__).resolve().parents[1] / "events"


def _event(name: str, instance_id: str, state: str = "") -> dict:  # type: ignore[type-arg]
    text = (EVENTS / name).read_text().replace("__INSTANCE__", instance_id).replace("__STATE__", state)
    return json.loads(text)


def test_a_spot_warning_names_the_workstation_its_owner_and_the_two_minutes(stack: Stack) -> None:
    (instance,) = launch(boto3.client("ec2"), 1, "anim", "U0ANNA")
    alert = alert_for(_event("eventbridge_spot_interruption.json", instance), Ec2Workstations())
    assert alert is not None and (alert.name, alert.owner, alert.kind) == (
        "anim-00",
        "U0ANNA",
        "spot-interruption",
    )
    assert message_text(alert) == (
        "🚨 <@U0ANNA> AWS is reclaiming spot workstation `anim-00` in two minutes: save your work now."
    )


def test_state_changes_that_matter_are_told_and_passing_ones_are_not(stack: Stack) -> None:
    (instance,) = launch(boto3.client("ec2"), 1, "comp", "U0CARL")
    provider = Ec2Workstations()
    stopped = alert_for(_event("eventbridge_state_change.json", instance, "stopped"), provider)
    assert stopped is not None and message_text(stopped) == "🖥️ `comp-00` (<@U0CARL>) is now stopped."
    assert alert_for(_event("eventbridge_state_change.json", instance, "stopping"), provider) is None


def test_instances_that_are_not_workstations_are_ignored(stack: Stack) -> None:
    ec2 = boto3.client("ec2")
    render_box = ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    assert alert_for(_event("eventbridge_spot_interruption.json", render_box), Ec2Workstations()) is None
    assert (
        alert_for(_event("eventbridge_spot_interruption.json", "i-0123456789abcdef0"), Ec2Workstations())
        is None
    )
