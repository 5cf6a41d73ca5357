"""A workstation session's lease in DynamoDB: this module owns every transition, each a conditional write.

    (none) ──seen running──► RUNNING ──stopped──► STOPPED ──seen running──► RUNNING (a new lease)
                               │  extend: expires_at moves later, within the limits
                               └─ warned once per lease; expired once per lease

A lease is one session: `lease_id` changes whenever the workstation starts or stops, so "warn once" and
"act once" are per lease. Items live in the jobs table in one partition, `pk=LEASES, sk=WS#<name>`, so listing them
is a query of that partition, never a scan of the table (which holds every frame record).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

from backend.aws.base import AwsAdapter, error_code
from backend.errors import ConflictError, ValidationError
from backend.workstations.durations import describe
from backend.workstations.ec2 import Workstation


class LeaseState(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"


@dataclass(frozen=True)
class LeaseLimits:
    """The limits Nimble Studio lived with, and how far an extension may go."""

    max_running: timedelta = timedelta(hours=11.5)
    max_stopped: timedelta = timedelta(days=4)
    max_extension: timedelta = timedelta(hours=8)
    max_session: timedelta = timedelta(hours=24)  # from start to expiry, extensions included


@dataclass(frozen=True)
class Lease:
    name: str
    instance_id: str
    state: LeaseState
    lease_id: str
    started_at: float
    expires_at: float
    version: int
    warned_lease: str = ""
    expired_lease: str = ""
    idle_warned_lease: str = (
        ""  # its owner was told at expiry that an idle (or unknown) session will be stopped
    )
    idle_warned_at: float | None = None

    @property
    def mark(self) -> str:
        """This lease at this expiry: what a once-per-expiry claim records."""
        return f"{self.lease_id}@{self.expires_at!r}"

    def idle_warned(self) -> float | None:
        """When its owner was warned, at this expiry, that the idle session will be stopped (None: not yet)."""
        return self.idle_warned_at if self.idle_warned_lease == self.mark else None

    def remaining(self, now: float) -> timedelta:
        return timedelta(seconds=self.expires_at - now)


LEASES_PARTITION = "LEASES"


def _key(name: str) -> dict[str, Any]:
    return {"pk": {"S": LEASES_PARTITION}, "sk": {"S": f"WS#{name}"}}


class DynamoLeases(AwsAdapter):
    """Leases of workstation sessions, changed only by conditional writes."""

    service = "dynamodb"
    label = "DynamoDB"

    def __init__(
        self,
        table_name: str,
        limits: LeaseLimits | None = None,
        client: Any | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(client)
        self.table_name = table_name
        self.limits = limits or LeaseLimits()
        self.clock = clock
        self.calls = 0  # DynamoDB calls made, for benchmarks

    def get(self, name: str) -> Lease | None:
        self.calls += 1
        try:
            item = self.client.get_item(TableName=self.table_name, Key=_key(name), ConsistentRead=True).get(
                "Item"
            )
        except ClientError as error:
            raise self.aws_error(error, "read the lease") from error
        return _lease(item) if item else None

    def all(self) -> dict[str, Lease]:
        """Every lease, by workstation name (a paginated query of the leases' partition)."""
        leases: dict[str, Lease] = {}
        try:
            for page in self.client.get_paginator("query").paginate(
                TableName=self.table_name,
                KeyConditionExpression="pk = :leases",
                ExpressionAttributeValues={":leases": {"S": LEASES_PARTITION}},
                ConsistentRead=True,
            ):
                self.calls += 1
                for item in page["Items"]:
                    lease = _lease(item)
                    leases[lease.name] = lease
        except ClientError as error:
            raise self.aws_error(error, "read the leases") from error
        return leases

    def observe_ec2(self, workstation: Workstation, current: Lease | None) -> Lease | None:
        """`observe` for what EC2 describes; a workstation between states (pending, stopping) keeps its lease."""
        if workstation.state not in ("running", "stopped"):
            return current  # wait until EC2 settles
        return self.observe(
            workstation.name, workstation.instance_id, workstation.state == "running", current
        )

    def observe(self, name: str, instance_id: str, running: bool, current: Lease | None) -> Lease:
        """Match the lease to what EC2 says; a start or a stop begins a new lease. Returns the lease now."""
        state = LeaseState.RUNNING if running else LeaseState.STOPPED
        if current is not None and current.state is state and current.instance_id == instance_id:
            return current
        lease = self._fresh(name, instance_id, state, (current.version + 1) if current else 1)
        condition = "attribute_not_exists(pk)" if current is None else "version = :seen"
        values = {} if current is None else {":seen": {"N": str(current.version)}}
        if not self._put(lease, condition, values):
            latest = self.get(name)  # someone else observed it first: theirs stands
            assert latest is not None
            return latest
        return lease

    def expire(self, lease: Lease) -> bool:
        """RUNNING → STOPPED at expiry, in one conditional write: True for the one sweep that gets to stop it."""
        stopped = self._fresh(lease.name, lease.instance_id, LeaseState.STOPPED, lease.version + 1)
        return self._put(stopped, "version = :seen", {":seen": {"N": str(lease.version)}})

    def renew(self, lease: Lease) -> Lease:
        """A kept-alive session that lapsed gets a fresh running lease (new id, full length) instead of a stop."""
        renewed = self._fresh(lease.name, lease.instance_id, LeaseState.RUNNING, lease.version + 1)
        if not self._put(renewed, "version = :seen", {":seen": {"N": str(lease.version)}}):
            raise ConflictError(
                f"`{lease.name}` changed while renewing its session: the next sweep will see it."
            )
        return renewed

    def _fresh(self, name: str, instance_id: str, state: LeaseState, version: int) -> Lease:
        """A new lease (new id) of full length for its state, starting now."""
        now = self.clock()
        lifetime = self.limits.max_running if state is LeaseState.RUNNING else self.limits.max_stopped
        return Lease(
            name=name,
            instance_id=instance_id,
            state=state,
            lease_id=uuid.uuid4().hex[:12],
            started_at=now,
            expires_at=now + lifetime.total_seconds(),
            version=version,
        )

    def extend(self, name: str, by: timedelta) -> Lease:
        """Push a running lease's expiry later, within `max_extension` per request and `max_session` in all."""
        if by > self.limits.max_extension:
            raise ValidationError(
                f"An extension can be at most {describe(self.limits.max_extension)}: "
                f"try `/workstations extend {name} {int(self.limits.max_extension.total_seconds() // 3600)}h`."
            )
        lease = self.get(name)
        if lease is None or lease.state is not LeaseState.RUNNING:
            raise ConflictError(f"`{name}` is not running, so there is no session to extend: start it first.")
        now = self.clock()
        new_expiry = max(lease.expires_at, now) + by.total_seconds()
        limit = lease.started_at + self.limits.max_session.total_seconds()
        if new_expiry > limit:
            left = timedelta(seconds=max(0.0, limit - max(lease.expires_at, now)))
            raise ValidationError(
                f"A session may last at most {describe(self.limits.max_session)}: `{name}` can be extended by "
                f"{describe(left)} more at most."
            )
        extended = Lease(**{**lease.__dict__, "expires_at": new_expiry, "version": lease.version + 1})
        if not self._put(extended, "version = :seen", {":seen": {"N": str(lease.version)}}):
            raise ConflictError(f"`{name}` changed while extending it: try again.")
        return extended

    def claim_warning(self, lease: Lease) -> bool:
        """True once per lease and expiry: the warning is sent by whoever wins (an extension earns a new one)."""
        return self._claim(lease, "warned_lease")

    def claim_expiry(self, lease: Lease) -> bool:
        """True once per lease and expiry: the action at expiry (stop or extend) is taken by whoever wins."""
        return self._claim(lease, "expired_lease")

    def claim_idle_warning(self, lease: Lease) -> bool:
        """True once per lease and expiry: the owner of an idle (or unknown) lapsed session is warned, and the
        stop waits a warning window from now."""
        return self._claim(lease, "idle_warned_lease", stamp="idle_warned_at")

    def _claim(self, lease: Lease, attribute: str, stamp: str = "") -> bool:
        self.calls += 1
        mark = lease.mark
        update = f"SET {attribute} = :mark" + (f", {stamp} = :now" if stamp else "")
        extra = {":now": {"N": repr(self.clock())}} if stamp else {}
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=_key(lease.name),
                UpdateExpression=update,
                ConditionExpression=(
                    f"lease_id = :lease AND expires_at = :expires "
                    f"AND (attribute_not_exists({attribute}) OR {attribute} <> :mark)"
                ),
                ExpressionAttributeValues={
                    ":mark": {"S": mark},
                    ":lease": {"S": lease.lease_id},
                    ":expires": {"N": repr(lease.expires_at)},
                    **extra,
                },
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise self.aws_error(error, "claim the lease") from error
        return True

    def _put(self, lease: Lease, condition: str, values: dict[str, Any]) -> bool:
        self.calls += 1
        item = {
            **_key(lease.name),
            "name": {"S": lease.name},
            "instance_id": {"S": lease.instance_id},
            "state": {"S": lease.state},
            "lease_id": {"S": lease.lease_id},
            "started_at": {"N": repr(lease.started_at)},
            "expires_at": {"N": repr(lease.expires_at)},
            "version": {"N": str(lease.version)},
        }
        for attribute in ("warned_lease", "expired_lease", "idle_warned_lease"):
            if getattr(lease, attribute):
                item[attribute] = {"S": getattr(lease, attribute)}
        if lease.idle_warned_at is not None:
            item["idle_warned_at"] = {"N": repr(lease.idle_warned_at)}
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=item,
                ConditionExpression=condition,
                **({"ExpressionAttributeValues": values} if values else {}),
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise self.aws_error(error, "write the lease") from error
        return True


def _lease(item: dict[str, Any]) -> Lease:
    return Lease(
        name=item["name"]["S"],
        instance_id=item["instance_id"]["S"],
        state=LeaseState(item["state"]["S"]),
        lease_id=item["lease_id"]["S"],
        started_at=float(item["started_at"]["N"]),
        expires_at=float(item["expires_at"]["N"]),
        version=int(item["version"]["N"]),
        warned_lease=item.get("warned_lease", {}).get("S", ""),
        expired_lease=item.get("expired_lease", {}).get("S", ""),
        idle_warned_lease=item.get("idle_warned_lease", {}).get("S", ""),
        idle_warned_at=float(item["idle_warned_at"]["N"]) if "idle_warned_at" in item else None,
    )
