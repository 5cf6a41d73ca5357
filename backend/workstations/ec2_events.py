"""EC2 events (EventBridge → `entry.ec2_events`): spot interruption warnings and state changes of workstations
become channel alerts."""

from __future__ import annotations

from typing import Any

from backend.events import WorkstationAlert
from backend.workstations.ec2 import Ec2Workstations

SPOT_WARNING = "EC2 Spot Instance Interruption Warning"
STATE_CHANGE = "EC2 Instance State-change Notification"
WORTH_SAYING = {"running", "stopped", "terminated"}  # pending/stopping are on their way to one of these


def alert_for(event: dict[str, Any], provider: Ec2Workstations) -> WorkstationAlert | None:
    """The alert an EC2 event deserves, or None (not a workstation, or a passing state)."""
    kind = {SPOT_WARNING: "spot-interruption", STATE_CHANGE: "state-change"}.get(event.get("detail-type", ""))
    detail = event.get("detail")
    if not isinstance(detail, dict) or not isinstance(detail.get("instance-id"), str):
        return None  # not an EC2 event we can read: nothing to say, and a retry would read it no better
    if kind is None or (kind == "state-change" and detail.get("state") not in WORTH_SAYING):
        return None
    workstation = provider.by_instance_id(detail["instance-id"])
    if workstation is None:
        return None  # a render box or anything else: not ours to announce
    return WorkstationAlert(workstation.name, workstation.owner, kind, detail.get("state", ""))
