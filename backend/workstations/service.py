"""Workstations from Slack: status, start/stop, keep-alive, extend, and the sweep that warns and acts at expiry."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from backend.config import Access
from backend.errors import ConflictError, ValidationError
from backend.events import EventPublisher, SessionExpiring, SessionExtended, SessionKept, SessionStopped
from backend.people import mention
from backend.workstations.asking import SessionAsker
from backend.workstations.durations import parse_duration
from backend.workstations.ec2 import Workstation
from backend.workstations.leases import Lease, LeaseState
from backend.workstations.ports import LeaseStore, WorkstationProvider
from backend.workstations.presence import Seen, SessionPolicy, Use, Verdict, before_stopping, no_answer, said


@dataclass(frozen=True)
class Change:
    """What a command did to a workstation (`bot.messages.workstations.change_text` words it)."""

    action: str  # "start" | "stop" | "keepalive" | "extend"
    name: str
    session_left: timedelta | None = None  # start, extend: until the session expires
    extended_by: timedelta | None = None
    keepalive: bool = False


@dataclass(frozen=True)
class StatusRow:
    """One line of `/workstations status`."""

    name: str
    owner: str
    state: str
    up_for: timedelta | None
    expires_in: timedelta | None
    keepalive: bool
    seen: Seen | None = None  # what the workstation said when asked (None: not asked, e.g. not running)


@dataclass
class SweepReport:
    """What one expiry sweep did."""

    warned: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    extended: list[str] = field(default_factory=list)
    left_in_use: list[str] = field(
        default_factory=list
    )  # in use (or unknown): its owner was asked, not stopped
    warned_idle: list[str] = field(
        default_factory=list
    )  # idle: stopped after the warning window unless answered


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
        asker: SessionAsker | None = None,
        policy: SessionPolicy | None = None,
    ) -> None:
        self.provider = provider
        self.leases = leases
        self.events = events
        self.access = access
        self.warn_before = warn_before
        self.clock = clock
        self.asker = asker
        self.policy = policy or (asker.policy if asker else SessionPolicy())

    def ask(self, workstations: list[Workstation], wait_s: float | None = None) -> dict[str, Seen]:
        """Who is connected to these workstations, asked of them now; UNKNOWN for all when nothing can ask."""
        if self.asker is not None:
            return self.asker.ask(workstations, wait_s)
        now = self.clock()
        return {w.name: no_answer(now) for w in workstations if w.state == "running"}

    def status(
        self,
        ask_page: tuple[int, int] | None = None,
        wait_s: float = 8.0,
        owner: str | None = None,
        observe: bool = True,
    ) -> list[StatusRow]:
        """Every workstation (`owner`: only theirs) with its session: one EC2 describe and one query of the leases
        (each brought up to date with what EC2 says, unless `observe` is False: read only). `ask_page` (page, rows
        per page, by name): the running workstations on that page are asked who is connected."""
        workstations = [w for w in self.provider.all() if owner is None or w.owner == owner]
        leases = self.leases.all()
        now = self.clock()
        rows = []
        for workstation in workstations:
            lease = leases.get(workstation.name)
            lease = self.leases.observe_ec2(workstation, lease) if observe else lease
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
                )
            )
        if ask_page is None:
            return rows
        page, per_page = ask_page
        ordered = sorted(workstations, key=lambda workstation: workstation.name)
        first = min(max(0, (page - 1) * per_page), max(0, (len(ordered) - 1) // per_page * per_page))
        seen = self.ask(ordered[first : first + per_page], wait_s)
        return [dataclasses.replace(row, seen=seen.get(row.name)) for row in rows]

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
        """Stop a running workstation: its owner at will; an admin only when nobody is, or may be, using it (the
        workstation is asked first)."""
        workstation = self._managed(name, user, "stop")
        if workstation.state in ("stopped", "stopping"):
            raise ConflictError(f"`{workstation.name}` is already {workstation.state}: nothing to do.")
        if user != workstation.owner and workstation.state == "running":
            seen = self.ask([workstation]).get(workstation.name)
            decision = before_stopping(seen, self.policy, self.clock())
            if decision.verdict is not Verdict.STOP:
                raise ConflictError(
                    f"`{workstation.name}` was not stopped: {said(decision.seen)}. "
                    f"Ask {_mention(workstation.owner)} to stop it, or to save and disconnect first."
                )
        self.provider.stop([workstation.instance_id])
        self.leases.observe(
            workstation.name, workstation.instance_id, False, self.leases.get(workstation.name)
        )
        return Change("stop", workstation.name)

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
        to_stop: list[tuple[Workstation, str]] = []
        lapsed: list[tuple[Workstation, Lease]] = []
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
                else:
                    lapsed.append((workstation, lease))
            elif left <= self.warn_before and self.leases.claim_warning(lease):
                report.warned.append(workstation.name)
                self.events.publish(
                    SessionExpiring(
                        workstation.name, workstation.owner, lease.expires_at, workstation.keepalive
                    )
                )
        if lapsed:  # only these are asked: a workstation not due for a stop is left alone
            seen = self.ask([workstation for workstation, _ in lapsed])
            for workstation, lease in lapsed:
                stop = self._at_expiry(workstation, lease, seen.get(workstation.name), now, report)
                if stop is not None:
                    to_stop.append((workstation, stop))
        if to_stop:
            self.provider.stop([workstation.instance_id for workstation, _ in to_stop])
            for workstation, reason in to_stop:
                report.stopped.append(workstation.name)
                self.events.publish(SessionStopped(workstation.name, workstation.owner, reason))
        return report

    def _at_expiry(
        self, workstation: Workstation, lease: Lease, seen: Seen | None, now: float, report: SweepReport
    ) -> str | None:
        """What a lapsed session's answer means: why to stop it now, or None (its owner asked or warned once)."""
        decision = before_stopping(seen, self.policy, now)
        seen = decision.seen
        if decision.verdict is Verdict.STOP:
            # the conditional write is the claim: one sweep stops it
            return "its session expired and nobody was connected" if self.leases.expire(lease) else None
        if decision.verdict is Verdict.KEEP:  # in use, or unknown by default: never stopped without a person
            if self.leases.claim_expiry(lease):
                report.left_in_use.append(workstation.name)
                self._kept(workstation, lease, seen, stop_at=0.0)
            return None
        warned = lease.idle_warned()
        if warned is None:
            if self.leases.claim_idle_warning(lease):
                report.warned_idle.append(workstation.name)
                self._kept(workstation, lease, seen, stop_at=now + self.policy.warn_window_s)
            return None
        if now < warned + self.policy.warn_window_s or not self.leases.expire(lease):
            return None
        what = "idle" if seen.use is Use.IDLE else "unknown"
        return f"its session expired, it was {what} and nobody answered the warning"

    def _kept(self, workstation: Workstation, lease: Lease, seen: Seen, stop_at: float) -> None:
        self.events.publish(
            SessionKept(
                name=workstation.name,
                owner=workstation.owner,
                lapsed_at=lease.expires_at,
                use=str(seen.use),
                users=list(seen.users),
                since=seen.since or 0.0,
                idle_s=seen.idle_s if seen.idle_s is not None else -1.0,
                why=seen.why,
                stop_at=stop_at,
            )
        )

    def _managed(self, name: str, user: str, verb: str) -> Workstation:
        if not name:
            raise ValidationError(
                f"Say which workstation to {verb}, e.g. `/workstations {verb.split()[0]} anim-01`."
            )
        workstation = self.provider.named(name)
        if not self.access.may_manage(user, workstation.owner):
            raise ConflictError(
                f"Only {mention(workstation.owner)} (its owner) or an admin can {verb} `{workstation.name}`."
            )
        return workstation


def _mention(owner: str) -> str:
    return mention(owner) if owner else "its owner"
