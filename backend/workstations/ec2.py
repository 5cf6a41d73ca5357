"""EC2 adapter: studio workstations are instances tagged `studiobot:workstation=<name>`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from backend.aws.base import AwsAdapter, error_code
from backend.errors import NotFoundError

TAG_NAME = "studiobot:workstation"
TAG_OWNER = "studiobot:owner"
TAG_KEEPALIVE = "studiobot:keepalive"
# For sites that cannot use Systems Manager: the optional agent (agent/) tags its own instance every 2 minutes with
# the presence script's answer and when it was made. Read only when Run Command cannot ask, and only while fresh.
TAG_PRESENCE = "studiobot:presence"
TAG_PRESENCE_AT = "studiobot:presence-at"
IDS_PER_CALL = 1000  # StartInstances/StopInstances take up to 1,000 instance ids per call


@dataclass(frozen=True)
class Workstation:
    """One workstation as EC2 describes it."""

    name: str
    instance_id: str
    owner: str
    state: str  # EC2's: pending, running, stopping, stopped, shutting-down
    launched_at: datetime | None
    keepalive: bool
    instance_type: str = ""
    spot: bool = False
    presence: str = ""  # the optional agent's last answer (TAG_PRESENCE), if it runs there
    presence_at: float | None = None


class Ec2Workstations(AwsAdapter):
    """Finds, starts and stops workstations in as few EC2 calls as it can."""

    service = "ec2"
    label = "EC2"
    reasons: ClassVar[Mapping[str, str]] = {
        "IncorrectInstanceState": "the workstation is changing state right now: try again in a minute",
        "InsufficientInstanceCapacity": "AWS has no capacity for this instance type right now: try again later",
        "InvalidInstanceID.NotFound": "the workstation's instance no longer exists",
    }

    def __init__(self, client: Any | None = None) -> None:
        super().__init__(client)
        self.calls = 0  # EC2 API calls made, for benchmarks and tests

    def all(self) -> list[Workstation]:
        """Every workstation that is not terminated, sorted by name (paginated describe)."""
        filters = [
            {"Name": "tag-key", "Values": [TAG_NAME]},
            {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]},
        ]
        found: list[Workstation] = []
        try:
            for page in self.client.get_paginator("describe_instances").paginate(
                Filters=filters, PaginationConfig={"PageSize": 1000}
            ):
                self.calls += 1
                for reservation in page["Reservations"]:
                    found.extend(_workstation(instance) for instance in reservation["Instances"])
        except ClientError as error:
            raise self.aws_error(error, "list the workstations") from error
        return sorted(found, key=lambda workstation: workstation.name)

    def named(self, name: str, workstations: Iterable[Workstation] | None = None) -> Workstation:
        """The workstation called `name`; NotFoundError with the names that exist if there is none."""
        known = list(workstations if workstations is not None else self.all())
        for workstation in known:
            if workstation.name.lower() == name.lower():
                return workstation
        names = ", ".join(f"`{w.name}`" for w in known[:10]) or "none yet"
        raise NotFoundError(f"There is no workstation `{name}`. Workstations: {names}.")

    def by_instance_id(self, instance_id: str) -> Workstation | None:
        """The workstation on this instance, or None if the instance is not a workstation (or unknown)."""
        try:
            self.calls += 1
            reservations = self.client.describe_instances(InstanceIds=[instance_id])["Reservations"]
        except ClientError as error:
            if error_code(error) in ("InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"):
                return None
            raise self.aws_error(error, "look up the instance") from error
        for reservation in reservations:
            for instance in reservation["Instances"]:
                if any(tag["Key"] == TAG_NAME for tag in instance.get("Tags", [])):
                    return _workstation(instance)
        return None

    def start(self, instance_ids: list[str]) -> None:
        """Start instances, up to a thousand per call."""
        self._batched("start_instances", instance_ids)

    def stop(self, instance_ids: list[str]) -> None:
        """Stop instances, up to a thousand per call."""
        self._batched("stop_instances", instance_ids)

    def set_keepalive(self, instance_id: str, on: bool) -> None:
        """Tag (or untag) a workstation as kept alive."""
        try:
            self.calls += 1
            if on:
                self.client.create_tags(
                    Resources=[instance_id], Tags=[{"Key": TAG_KEEPALIVE, "Value": "true"}]
                )
            else:
                self.client.delete_tags(Resources=[instance_id], Tags=[{"Key": TAG_KEEPALIVE}])
        except ClientError as error:
            raise self.aws_error(error, "change keep-alive") from error

    def _batched(self, operation: str, instance_ids: list[str]) -> None:
        for start in range(0, len(instance_ids), IDS_PER_CALL):
            try:
                self.calls += 1
                getattr(self.client, operation)(InstanceIds=instance_ids[start : start + IDS_PER_CALL])
            except ClientError as error:
                doing = operation.replace("_instances", "").replace("_", " ") + " workstations"
                raise self.aws_error(error, doing) from error


def _workstation(instance: dict[str, Any]) -> Workstation:
    tags = {tag["Key"]: tag["Value"] for tag in instance.get("Tags", [])}
    stamp = tags.get(TAG_PRESENCE_AT, "")
    return Workstation(
        name=tags[TAG_NAME],
        instance_id=instance["InstanceId"],
        owner=tags.get(TAG_OWNER, ""),
        state=instance["State"]["Name"],
        launched_at=instance.get("LaunchTime"),
        keepalive=tags.get(TAG_KEEPALIVE, "").lower() == "true",
        instance_type=instance.get("InstanceType", ""),
        spot=instance.get("InstanceLifecycle") == "spot",
        presence=tags.get(TAG_PRESENCE, ""),
        presence_at=float(stamp) if stamp.isascii() and stamp.isdigit() else None,
    )
