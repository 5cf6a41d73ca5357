"""The daily keep-alive: start what is about to be reclaimed, stop only that, never stop a session in use."""

from __future__ import annotations

import boto3

from backend.events import KeepAliveReport
from backend.workstations.asking import SessionAsker
from backend.workstations.ec2 import Ec2Workstations
from backend.workstations.keepalive import KeepAlive
from backend.workstations.leases import DynamoLeases
from entry import keepalive as handlers
from testing.shell import WorkstationShells

from .conftest import Stack
from .test_workstation_provider import launch
from .test_workstations import Clock, Published

DAY = 24 * 3600.0


def test_stop_takes_only_what_this_run_started_and_never_one_in_use(stack: Stack) -> None:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    old = launch(ec2, 4, "old", "U0ANNA")  # stopped for 3.5 days: due
    fresh = launch(ec2, 3, "new", "U0CARL")  # stopped today: not due
    busy = launch(ec2, 2, "run", "U0LIVE")  # running all along
    clock, published = Clock(), Published()
    leases = DynamoLeases(stack.settings.table_name, clock=clock)
    shells = WorkstationShells()
    keep = KeepAlive(
        Ec2Workstations(), leases, published, clock=clock, asker=SessionAsker(shells, clock=clock)
    )
    ec2.stop_instances(InstanceIds=old)
    keep.start_due()  # the first look records the leases; nothing is due yet
    clock.now += 3.5 * DAY
    ec2.stop_instances(InstanceIds=fresh)

    started = keep.start_due()
    assert sorted(entry["name"] for entry in started.started) == [f"old-{i:02d}" for i in range(4)]
    # During the wait: an artist connects to one of them, and others start their own workstations.
    shells.connected(old[0], "anna", "2027-01-15T07:00:00Z", idle_s=30)
    ec2.start_instances(InstanceIds=fresh[:1])
    stopped = keep.stop_started(started.started)
    assert stopped.stopped == ["old-01", "old-02", "old-03"] and stopped.left_running == ["old-00"]
    states = {w.name: w.state for w in Ec2Workstations().all()}
    assert states["new-00"] == "running" and states["run-00"] == "running" and states["old-00"] == "running"
    assert busy  # running workstations were never touched

    report = keep.report(started.started, stopped)
    assert published.events == [report]
    assert report.left_running == ["old-00"] and len(report.started) == 4


def test_the_lambda_tasks_pass_json_along_the_state_machine(stack: Stack, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ec2 = boto3.client("ec2", region_name="us-east-1")
    launch(ec2, 1, "anim", "U0ANNA")
    published = Published()
    keep = KeepAlive(Ec2Workstations(), DynamoLeases(stack.settings.table_name), published)
    monkeypatch.setattr(handlers, "keepalive", lambda: keep)
    state = {"wait_seconds": 1}
    state["start"] = handlers.start_due(state, None)
    state["stop"] = handlers.stop_started(state, None)
    assert handlers.report(state, None)["type"] == "KeepAliveReport"
    failed = handlers.report(
        {"start": {"started": []}, "error": {"Error": "States.Timeout", "Cause": "EC2 slow"}}, None
    )
    assert failed["error"] == "States.Timeout: EC2 slow"
    assert isinstance(published.events[-1], KeepAliveReport)
