"""The daily keep-alive: start stopped sessions about to be reclaimed, wait, stop only those, report.

The seed started every STOPPED session whose termination fell within 24 h and later stopped every READY one —
including sessions artists had started themselves and were working in. Here Stop takes the list Start returned,
and never stops a workstation someone is connected to.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from backend.events import EventPublisher, KeepAliveReport
from backend.workstations.asking import SessionAsker
from backend.workstations.leases import LeaseState
from backend.workstations.ports import LeaseStore, WorkstationProvider
from backend.workstations.presence import SessionPolicy, Verdict, before_stopping, said


@dataclass
class StartResult:
    started: list[dict[str, str]] = field(
        default_factory=list
    )  # [{"name", "instance_id"}], the Stop step's input


@dataclass
class StopResult:
    stopped: list[str] = field(default_factory=list)
    left_running: list[str] = field(default_factory=list)
    left_because: dict[str, str] = field(default_factory=dict)  # name → what its workstation said


class KeepAlive:
    """The three task handlers of the keep-alive state machine, as plain methods."""

    def __init__(
        self,
        provider: WorkstationProvider,
        leases: LeaseStore,
        events: EventPublisher,
        due_within: timedelta = timedelta(hours=24),
        clock: Callable[[], float] = time.time,
        asker: SessionAsker | None = None,
    ) -> None:
        self.asker = asker  # None: nothing can ask, so nothing it started is stopped
        self.policy = asker.policy if asker else SessionPolicy()
        self.provider = provider
        self.leases = leases
        self.events = events
        self.due_within = due_within
        self.clock = clock

    def start_due(self) -> StartResult:
        """Start every stopped workstation whose stopped-session lease ends within `due_within`."""
        leases = self.leases.all()
        now = self.clock()
        due = []
        for workstation in self.provider.all():
            lease = self.leases.observe_ec2(workstation, leases.get(workstation.name))
            if (
                workstation.state == "stopped"
                and lease is not None
                and lease.state is LeaseState.STOPPED
                and lease.expires_at - now <= self.due_within.total_seconds()
            ):
                due.append(workstation)
        if due:
            self.provider.start([workstation.instance_id for workstation in due])
        return StartResult(started=[{"name": w.name, "instance_id": w.instance_id} for w in due])

    def stop_started(self, started: list[dict[str, str]]) -> StopResult:
        """Stop the workstations this run started, but only those that answer "nobody connected": one someone
        connected to meanwhile (active or idle), or that cannot answer, is left running and said why."""
        names = {entry["name"] for entry in started}
        result = StopResult()
        to_stop = []
        mine = [workstation for workstation in self.provider.all() if workstation.name in names]
        seen = self.asker.ask(mine) if self.asker else {}
        now = self.clock()
        for workstation in mine:
            decision = before_stopping(seen.get(workstation.name), self.policy, now)
            if workstation.state != "running" or decision.verdict is Verdict.STOP:
                to_stop.append(workstation)
                continue
            # idle (or unknown, by policy) waits for the sweep at its session's expiry: it warns before a stop
            result.left_running.append(workstation.name)
            result.left_because[workstation.name] = said(decision.seen)
        if to_stop:
            self.provider.stop([workstation.instance_id for workstation in to_stop])
            result.stopped = sorted(workstation.name for workstation in to_stop)
        return result

    def report(
        self, started: list[dict[str, str]], stop: StopResult | None, error: str = ""
    ) -> KeepAliveReport:
        """Publish what the run did (also when a step failed: the Catch still reports)."""
        event = KeepAliveReport(
            started=sorted(entry["name"] for entry in started),
            stopped=stop.stopped if stop else [],
            left_running=stop.left_running if stop else [],
            left_because=stop.left_because if stop else {},
            error=error,
        )
        self.events.publish(event)
        return event
