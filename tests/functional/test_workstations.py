"""`/workstations` rules and the expiry sweep, against moto EC2 with a fleet in every state."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import boto3
import pytest

from backend.config import Access
from backend.errors import ConflictError, NotFoundError, ValidationError
from backend.events import Event, SessionExpiring, SessionExtended, SessionStopped
from backend.people import mention
from backend.workstations.asking import SessionAsker
from backend.workstations.ec2 import TAG_KEEPALIVE, Ec2Workstations
from backend.workstations.leases import DynamoLeases
from backend.workstations.service import WorkstationService
from bot.messages.workstations import change_text
from testing.shell import WorkstationShells

from .conftest import Stack
from .test_workstation_provider import launch

HOUR = 3600.0
ADMIN = "U0ADMIN"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class Published:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def publish(self, event: Event) -> None:
        self.events.append(event)


@dataclass
class Studio:
    service: WorkstationService
    provider: Ec2Workstations
    leases: DynamoLeases
    published: Published
    clock: Clock


@pytest.fixture
def studio(stack: Stack) -> Iterator[Studio]:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    launch(ec2, 10, "anim", "U0ANNA")
    stopped = launch(ec2, 6, "comp", "U0CARL")
    ec2.stop_instances(InstanceIds=stopped)
    launch(ec2, 2, "lead", "U0LEAD", {TAG_KEEPALIVE: "true"})
    live = launch(ec2, 2, "live", "U0LIVE")
    gone = launch(ec2, 3, "old", "U0OLGA")
    ec2.terminate_instances(InstanceIds=gone)
    clock = Clock()
    provider = Ec2Workstations()
    leases = DynamoLeases(stack.settings.table_name, clock=clock)
    published = Published()
    shells = WorkstationShells()  # every workstation answers "nobody connected", but Live's two
    for instance_id in live:
        shells.connected(instance_id, "liv", "2027-01-15T07:00:00Z", idle_s=60)
    asker = SessionAsker(shells, clock=clock)
    service = WorkstationService(
        provider, leases, published, Access(admins=frozenset({ADMIN})), clock=clock, asker=asker
    )
    yield Studio(service, provider, leases, published, clock)


def test_status_shows_every_workstation_with_its_session(studio: Studio) -> None:
    rows = {row.name: row for row in studio.service.status()}
    assert len(rows) == 20 and "old-00" not in rows
    assert rows["anim-00"].state == "running" and rows["anim-00"].expires_in == timedelta(hours=11.5)
    assert rows["comp-00"].state == "stopped" and rows["comp-00"].expires_in == timedelta(days=4)
    assert rows["lead-00"].keepalive and rows["live-00"].seen is None  # asked only for a page shown


def test_only_the_owner_or_an_admin_changes_a_workstation(studio: Studio) -> None:
    with pytest.raises(
        ConflictError,
        match=rf"Only {re.escape(mention('U0ANNA'))} \(its owner\) or an admin can stop `anim-03`",
    ):
        studio.service.stop("anim-03", "U0CARL")
    assert change_text(studio.service.stop("anim-03", ADMIN)) == "⏹️ Stopping `anim-03`."
    started = change_text(studio.service.start("comp-01", "U0CARL"))
    assert "Starting `comp-01`: its session lasts 11 h 30 min" in started


@pytest.mark.parametrize(
    ("action", "said"),
    [
        (lambda s: s.start("anim-01", "U0ANNA"), "`anim-01` is already running: nothing to do."),
        (lambda s: s.stop("comp-01", "U0CARL"), "`comp-01` is already stopped: nothing to do."),
        (lambda s: s.keepalive("lead-00", True, "U0LEAD"), "Keep-alive is already on for `lead-00`."),
        (lambda s: s.extend("anim-01", "4x", "U0ANNA"), "`4x` is not a duration: try `4h`"),
        (lambda s: s.extend("anim-01", "12h", "U0ANNA"), "An extension can be at most 8 h"),
        (lambda s: s.extend("comp-01", "2h", "U0CARL"), "`comp-01` is not running"),
        (lambda s: s.start("anim-99", "U0ANNA"), "There is no workstation `anim-99`"),
    ],
)
def test_every_mistake_gets_a_sentence(studio: Studio, action, said: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises((ConflictError, ValidationError, NotFoundError)) as raised:
        action(studio.service)
    assert said in str(raised.value)


def test_extend_and_keepalive(studio: Studio) -> None:
    extended = change_text(studio.service.extend("anim-02", "4h", "U0ANNA"))
    assert "Extended `anim-02` by 4 h: it now expires in 15 h 30 min" in extended
    assert "Keep-alive on for `anim-02`" in change_text(studio.service.keepalive("anim-02", True, "U0ANNA"))
    assert {w.name: w.keepalive for w in studio.provider.all()}["anim-02"]


def test_the_sweep_warns_once_then_acts_once_and_never_stops_a_session_in_use(studio: Studio) -> None:
    studio.service.status()  # leases begin when the sweep first sees the fleet
    studio.clock.now += 11 * HOUR + 5 * 60  # 25 minutes before the running leases lapse
    first = studio.service.sweep()
    assert sorted(first.warned) == sorted(
        [f"anim-{i:02d}" for i in range(10)] + ["lead-00", "lead-01", "live-00", "live-01"]
    )
    assert studio.service.sweep().warned == []  # alerts go out once per lease
    assert all(isinstance(event, SessionExpiring) for event in studio.published.events)

    studio.clock.now += 30 * 60  # now past expiry
    studio.provider.calls = 0
    acted = studio.service.sweep()
    assert sorted(acted.stopped) == [f"anim-{i:02d}" for i in range(10)]
    assert sorted(acted.extended) == ["lead-00", "lead-01"]
    assert sorted(acted.left_in_use) == ["live-00", "live-01"]
    assert studio.provider.calls == 2  # one describe, one batched stop
    states = {w.name: w.state for w in studio.provider.all()}
    assert (
        states["anim-00"] == "stopped" and states["live-00"] == "running" and states["lead-00"] == "running"
    )
    stopped = [e for e in studio.published.events if isinstance(e, SessionStopped)]
    extended = [e for e in studio.published.events if isinstance(e, SessionExtended)]
    assert len(stopped) == 10 and len(extended) == 2
    again = studio.service.sweep()
    assert (again.stopped, again.extended, again.left_in_use) == ([], [], [])  # acted once per lease
