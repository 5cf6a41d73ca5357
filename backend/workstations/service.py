"""Workstations from Slack: status, start/stop, keep-alive, extend, and the sweep that warns and acts at expiry."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from backend.config import Access
from backend.errors import ConflictError, ValidationError
from backend.events import EventPublisher, SessionExpiring, SessionExtended, SessionStopped
from backend.workstations.durations import parse_duration
from backend.workstations.ec2 import Workstation
from backend.workstations.leases import LeaseState
from backend.workstations.ports import LeaseStore, WorkstationProvider


@dataclass(frozen=True)
class Change:
    """What a command did to a workstation (`bot.messages.workstations.change_text` words it)."""

    action: str  # "start" | "stop" | "keepalive" | "extend"
    name: str
    session_left: timedelta | None = None  # start, extend: until the session expires
    extended_by: timedelta | None = None
    keepalive: bool = False
    someone_connected: bool = False  # stop: a remote-desktop connection was open


@dataclass(frozen=True)
class StatusRow:
    """One line of `/workstations status`."""

    name: str
    owner: str
    state: str
    up_for: timedelta | None
    expires_in: timedelta | None
    keepalive: bool
    in_use: bool


@dataclass
class SweepReport:
    """What one expiry sweep did."""

    warned: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    extended: list[str] = field(default_factory=list)
    left_in_use: list[str] = field(default_factory=list)


class WorkstationService:
    """The rules: who may change what, and what happens when a session's lease runs out."""

    def __init__(
        self,
        provider: WorkstationProvider,
        leases: LeaseStore,
        events: EventPublisher,
        access: Access,
        warn_before: timedelta = timedelta(minutes=30),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.provider = provider
        self.leases = leases
        self.events = events
        self.access = access
        self.warn_before = warn_before
        self.clock = clock

    def status(self) -> list[StatusRow]:
        """Every workstation with its session: one EC2 describe and one query of the leases."""
        workstations = self.provider.all()
        leases = self.leases.all()
        now = self.clock()
        rows = []
        for workstation in workstations:
            lease = self.leases.observe_ec2(workstation, leases.get(workstation.name))
            running = (
                lease is not None and lease.state is LeaseState.RUNNING and workstation.state == "running"
            )
            rows.append(
                StatusRow(
                    name=workstation.name,
                    owner=workstation.owner,
                    state=workstation.state,
                    up_for=timedelta(seconds=now - lease.started_at) if running and lease else None,
                    expires_in=lease.remaining(now) if lease else None,
                    keepalive=workstation.keepalive,
                    in_use=workstation.in_use,
                )
            )
        return rows

    def start(self, name: str, user: str) -> Change:
        """Start a stopped workstation (its owner or an admin); its session lease starts."""
        workstation = self._managed(name, user, "start")
        if workstation.state in ("running", "pending"):
            raise ConflictError(f"`{workstation.name}` is already {workstation.state}: nothing to do.")
        if workstation.state == "stopping":
            raise ConflictError(f"`{workstation.name}` is still stopping: start it again in a minute.")
        self.provider.start([workstation.instance_id])
        lease = self.leases.observe(
            workstation.name, workstation.instance_id, True, self.leases.get(workstation.name)
        )
        return Change("start", workstation.name, session_left=lease.remaining(self.clock()))

    def stop(self, name: str, user: str) -> Change:
        """Stop a running workstation (its owner or an admin)."""
        workstation = self._managed(name, user, "stop")
        if workstation.state in ("stopped", "stopping"):
            raise ConflictError(f"`{workstation.name}` is already {workstation.state}: nothing to do.")
        self.provider.stop([workstation.instance_id])
        self.leases.observe(
            workstation.name, workstation.instance_id, False, self.leases.get(workstation.name)
        )
        return Change("stop", workstation.name, someone_connected=workstation.in_use)

    def keepalive(self, name: str, on: bool, user: str) -> Change:
        """Renew instead of stop at expiry (on), or not (off)."""
        workstation = self._managed(name, user, "change keep-alive of")
        if workstation.keepalive == on:
            raise ConflictError(f"Keep-alive is already {'on' if on else 'off'} for `{workstation.name}`.")
        self.provider.set_keepalive(workstation.instance_id, on)
        return Change("keepalive", workstation.name, keepalive=on)

    def extend(self, name: str, duration_text: str, user: str) -> Change:
        """Lengthen a running session by a typed duration (`4h`, `90m`), within the lease's limits."""
        by = parse_duration(duration_text)
        workstation = self._managed(name, user, "extend")
        self.leases.observe(
            workstation.name,
            workstation.instance_id,
            workstation.state == "running",
            self.leases.get(workstation.name),
        )
        lease = self.leases.extend(workstation.name, by)
        return Change("extend", workstation.name, session_left=lease.remaining(self.clock()), extended_by=by)

    def sweep(self) -> SweepReport:
        """Warn sessions about to lapse, act on lapsed ones (stop, or extend if kept alive); each once per lease."""
        report = SweepReport()
        workstations = self.provider.all()
        leases = self.leases.all()
        now = self.clock()
        to_stop: list[Workstation] = []
        for workstation in workstations:
            lease = self.leases.observe_ec2(workstation, leases.get(workstation.name))
            if lease is None or lease.state is not LeaseState.RUNNING or workstation.state != "running":
                continue
            left = lease.remaining(now)
            if left <= timedelta(0):
                if workstation.keepalive:
                    try:
                        renewed = self.leases.renew(lease)
                    except ConflictError:
                        continue  # another sweep acted on this lease
                    report.extended.append(workstation.name)
                    self.events.publish(
                        SessionExtended(
                            workstation.name, workstation.owner, renewed.expires_at, "keep-alive is on"
                        )
                    )
                elif workstation.in_use:
                    if self.leases.claim_expiry(lease):  # said once per lease; never stop someone's work
                        report.left_in_use.append(workstation.name)
                elif self.leases.expire(lease):  # the conditional write is the claim: one sweep stops it
                    to_stop.append(workstation)
            elif left <= self.warn_before and self.leases.claim_warning(lease):
                report.warned.append(workstation.name)
                self.events.publish(
                    SessionExpiring(
                        workstation.name, workstation.owner, lease.expires_at, workstation.keepalive
                    )
                )
        if to_stop:
            self.provider.stop([workstation.instance_id for workstation in to_stop])
            for workstation in to_stop:
                report.stopped.append(workstation.name)
                self.events.publish(
                    SessionStopped(workstation.name, workstation.owner, "its session expired")
                )
        return report

    def _managed(self, name: str, user: str, verb: str) -> Workstation:
        if not name:
            raise ValidationError(
                f"Say which workstation to {verb}, e.g. `/workstations {verb.split()[0]} anim-01`."
            )
        workstation = self.provider.named(name)
        if not self.access.may_manage(user, workstation.owner):
            raise ConflictError(
                f"Only <@{workstation.owner}> (its owner) or an admin can {verb} `{workstation.name}`."
            )
        return workstation
