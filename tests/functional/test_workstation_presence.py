"""Never stop a session someone is using: the workstation is asked at the moment of stopping (Run Command on moto,
the script's answer from a fake workstation), for the sweep, the keep-alive and an admin's stop. Every case:
connected and active, connected and idle, nobody connected, no SSM agent, no answer in time, no DCV."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pytest

from backend.config import Access
from backend.errors import ConflictError
from backend.events import KeepAliveReport, SessionKept, SessionStopped
from backend.people import mention
from backend.workstations.asking import SessionAsker
from backend.workstations.ec2 import TAG_PRESENCE, TAG_PRESENCE_AT, Ec2Workstations
from backend.workstations.keepalive import KeepAlive
from backend.workstations.leases import DynamoLeases
from backend.workstations.presence import STOP_AFTER_WARNING, SessionPolicy, Use
from backend.workstations.service import WorkstationService
from backend.workstations.ssm import SsmCommands
from bot.messages.workstations import event_text, kept_message, workstations_table
from entry import keepalive as handlers
from testing.shell import WorkstationShells

from .conftest import Stack
from .test_workstation_provider import launch
from .test_workstations import ADMIN, HOUR, Published

T0 = 1_800_000_000.0  # 2027-01-15 08:00 UTC
CASES = ("active", "idle", "free", "noagent", "silent", "nodcv")


class Clock:
    """Time that the asker's waits move on, so a workstation that never answers costs no real seconds."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Fleet:
    service: WorkstationService
    shells: WorkstationShells
    ssm: SsmCommands
    ids: dict[str, str]
    published: Published
    clock: Clock
    leases: DynamoLeases
    asker: SessionAsker


def _fleet(stack: Stack, policy: SessionPolicy) -> Fleet:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    ids = {}
    for case in CASES:
        (ids[case],) = launch(ec2, 1, case, "U0ANNA")
    clock, published = Clock(), Published()
    ssm = SsmCommands()
    shells = WorkstationShells(ssm)
    since = "2027-01-15T07:40:00Z"
    shells.connected(ids["active"], "anna", since, idle_s=180)
    shells.connected(ids["idle"], "anna", since, idle_s=2 * HOUR)
    shells.free(ids["free"])
    shells.no_agent(ids["noagent"])
    shells.silent(ids["silent"])
    shells.no_dcv(ids["nodcv"])
    asker = SessionAsker(shells, policy, clock=clock, sleep=clock.sleep)
    leases = DynamoLeases(stack.settings.table_name, clock=clock)
    service = WorkstationService(
        Ec2Workstations(), leases, published, Access(admins=frozenset({ADMIN})), clock=clock, asker=asker
    )
    return Fleet(service, shells, ssm, ids, published, clock, leases, asker)


@pytest.fixture
def fleet(stack: Stack) -> Iterator[Fleet]:
    yield _fleet(stack, SessionPolicy())


def _kept(fleet: Fleet) -> dict[str, SessionKept]:
    return {event.name: event for event in fleet.published.events if isinstance(event, SessionKept)}


def test_at_expiry_only_a_workstation_that_answers_nobody_connected_is_stopped(fleet: Fleet) -> None:
    fleet.service.status()  # the leases begin
    fleet.clock.now += 11.5 * HOUR + 60  # every session lapsed a minute ago
    report = fleet.service.sweep()
    assert report.stopped == ["free-00"]
    assert sorted(report.left_in_use) == ["active-00", "noagent-00", "nodcv-00", "silent-00"]
    assert report.warned_idle == ["idle-00"]
    states = {w.name: w.state for w in Ec2Workstations().all()}
    assert [name for name, state in states.items() if state != "running"] == ["free-00"]
    # one SendCommand for the five that have an agent (Linux), none for the one without
    assert [sorted(ids) for _, ids in fleet.shells.sent] == [
        sorted(fleet.ids[case] for case in CASES if case != "noagent")
    ]
    kept = _kept(fleet)
    text = kept_message(kept["active-00"])[0]
    assert text.startswith("⚠️ <@U0ANNA> `active-00` lapsed at <!date^1800041400^{time}|19:30 UTC>")
    assert "`anna` has been connected since" in text and "(active 3 min ago): not stopped." in text
    assert "cannot tell whether anyone is connected (no Systems Manager agent answers on it)" in event_text(
        kept["noagent-00"]
    )
    assert "(it did not answer within 20 s)" in event_text(kept["silent-00"])
    assert "(Amazon DCV does not answer on it)" in event_text(kept["nodcv-00"])
    idle = kept_message(kept["idle-00"])
    assert (
        "but idle for 2 h" in idle[0]
        and "it will be stopped at" in idle[0]
        and "unless you extend it" in idle[0]
    )
    assert [button["text"]["text"] for button in idle[1][1]["elements"]] == ["Extend 2 h", "Stop now"]
    assert [b["text"]["text"] for b in kept_message(kept["noagent-00"])[1][1]["elements"]] == [
        "Keep 2 h",
        "Stop now",
    ]
    stopped = [event for event in fleet.published.events if isinstance(event, SessionStopped)]
    assert [event.name for event in stopped] == ["free-00"]

    fleet.published.events.clear()
    fleet.shells.sent.clear()
    fleet.clock.now += 10 * 60  # the next sweep: asked again, nothing said twice, nothing stopped yet
    again = fleet.service.sweep()
    assert (again.stopped, again.left_in_use, again.warned_idle, _kept(fleet)) == ([], [], [], {})
    assert fleet.ids["free"] not in {iid for _, ids in fleet.shells.sent for iid in ids}  # not due: not asked

    fleet.clock.now += 25 * 60  # the idle warning's 30 minutes passed without an answer
    late = fleet.service.sweep()
    assert late.stopped == ["idle-00"]
    (stop,) = [event for event in fleet.published.events if isinstance(event, SessionStopped)]
    assert stop.reason == "its session expired, it was idle and nobody answered the warning"
    running = {w.name for w in Ec2Workstations().all() if w.state == "running"}
    assert running == {"active-00", "noagent-00", "nodcv-00", "silent-00"}  # in use or unknown: never stopped


def test_an_idle_session_someone_comes_back_to_is_not_stopped_after_its_warning(fleet: Fleet) -> None:
    fleet.service.status()
    fleet.clock.now += 11.5 * HOUR + 60
    assert fleet.service.sweep().warned_idle == ["idle-00"]
    fleet.shells.connected(fleet.ids["idle"], "anna", "2027-01-15T07:40:00Z", idle_s=20)  # she is back
    fleet.clock.now += 31 * 60
    assert "idle-00" not in fleet.service.sweep().stopped


def test_the_unknown_policy_can_stop_after_a_warning_but_never_silently(stack: Stack) -> None:
    fleet = _fleet(stack, SessionPolicy(unknown=STOP_AFTER_WARNING))
    fleet.service.status()
    fleet.clock.now += 11.5 * HOUR + 60
    first = fleet.service.sweep()
    assert sorted(first.warned_idle) == ["idle-00", "noagent-00", "nodcv-00", "silent-00"]
    assert first.left_in_use == ["active-00"]
    fleet.clock.now += 31 * 60
    assert sorted(fleet.service.sweep().stopped) == ["idle-00", "noagent-00", "nodcv-00", "silent-00"]
    assert {w.name for w in Ec2Workstations().all() if w.state == "running"} == {"active-00"}


def test_an_admin_cannot_stop_a_session_in_use_but_its_owner_can(fleet: Fleet) -> None:
    said = {}
    for case in ("active", "idle", "noagent", "silent"):
        with pytest.raises(ConflictError) as refused:
            fleet.service.stop(f"{case}-00", ADMIN)
        said[case] = str(refused.value)
        assert said[case].startswith(f"`{case}-00` was not stopped: ")
        assert f"Ask {mention('U0ANNA')} to stop it, or to save and disconnect first." in said[case]
    assert (
        "`anna` has been connected since <!date^1799998800^{time}|07:40 UTC> (active 3 min ago)"
        in said["active"]
    )
    assert (
        "cannot tell whether anyone is connected (no Systems Manager agent answers on it)" in said["noagent"]
    )
    fleet.service.stop("free-00", ADMIN)  # it answered: nobody is connected
    fleet.service.stop("active-00", "U0ANNA")  # her own: she knows
    stopped = {w.name for w in Ec2Workstations().all() if w.state != "running"}
    assert stopped == {"free-00", "active-00"}


def test_status_shows_who_is_connected_and_since_when_and_unknown_where_unknown(fleet: Fleet) -> None:
    rows = fleet.service.status(ask_page=(1, 50))
    seen = {row.name: row.seen for row in rows}
    assert {name: s.use for name, s in seen.items() if s} == {
        "active-00": Use.ACTIVE,
        "idle-00": Use.IDLE,
        "free-00": Use.FREE,
        "noagent-00": Use.UNKNOWN,
        "silent-00": Use.UNKNOWN,
        "nodcv-00": Use.UNKNOWN,
    }
    text, blocks = workstations_table(rows)
    table = str(blocks)
    assert "anna since 07:40 UTC" in table and "anna since 07:40 UTC, idle 2 h" in table
    assert "nobody" in table and table.count("unknown") == 3
    assert text == "6 workstations: 6 running; of 6 asked now, 2 connected and 3 unknown"


def test_the_keep_alive_stops_only_what_answers_free_and_says_why_it_left_the_rest(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    fleet = _fleet(stack, SessionPolicy())
    ec2 = boto3.client("ec2", region_name="us-east-1")
    ec2.stop_instances(InstanceIds=list(fleet.ids.values()))
    keep = KeepAlive(Ec2Workstations(), fleet.leases, fleet.published, clock=fleet.clock, asker=fleet.asker)
    monkeypatch.setattr(handlers, "keepalive", lambda: keep)
    state: dict = {"wait_seconds": 1}
    state["start"] = handlers.start_due(state, None)  # the first look records the leases
    fleet.clock.now += 3.5 * 24 * HOUR
    state["start"] = handlers.start_due(state, None)
    assert len(state["start"]["started"]) == 6
    state["stop"] = handlers.stop_started(state, None)
    assert state["stop"]["stopped"] == ["free-00"]
    assert sorted(state["stop"]["left_running"]) == [
        "active-00",
        "idle-00",
        "noagent-00",
        "nodcv-00",
        "silent-00",
    ]
    report = handlers.report(state, None)
    assert report["type"] == "KeepAliveReport"
    (event,) = [e for e in fleet.published.events if isinstance(e, KeepAliveReport)]
    said = event_text(event)
    assert "`idle-00` (`anna` has been connected since" in said and "but idle for 2 h)" in said
    assert "`noagent-00` (studiobot cannot tell whether anyone is connected" in said


def test_the_agents_recent_tag_answers_where_run_command_cannot(fleet: Fleet) -> None:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    answer = '{"studiobot_presence":1,"dcv":true,"connections":[{"user":"ben","since":null}],"idle_s":30}'
    tags = [{"Key": TAG_PRESENCE, "Value": answer}, {"Key": TAG_PRESENCE_AT, "Value": str(int(T0 - 60))}]
    ec2.create_tags(Resources=[fleet.ids["noagent"]], Tags=tags)
    seen = fleet.asker.ask([w for w in Ec2Workstations().all() if w.name == "noagent-00"])
    assert seen["noagent-00"].use is Use.ACTIVE and seen["noagent-00"].users == ("ben",)
    fleet.clock.now += 3600  # an hour-old tag says nothing about now
    seen = fleet.asker.ask([w for w in Ec2Workstations().all() if w.name == "noagent-00"])
    assert seen["noagent-00"].use is Use.UNKNOWN


def test_run_command_calls_on_moto_are_batched_by_fifty(stack: Stack) -> None:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    launch(ec2, 120, "farm", "U0ANNA")
    clock = Clock()
    ssm = SsmCommands()
    shells = WorkstationShells(ssm)
    asker = SessionAsker(shells, SessionPolicy(), clock=clock, sleep=clock.sleep)
    seen = asker.ask(Ec2Workstations().all())
    assert len(seen) == 120 and {s.use for s in seen.values()} == {Use.FREE}
    assert [len(ids) for _, ids in shells.sent] == [50, 50, 20] and ssm.calls["SendCommand"] == 3
    assert ssm.calls["ListCommandInvocations"] == 3  # a command's answers at once, not a call per instance
    # moto runs nothing: the real adapter reads its empty output as "did not say", never as free
    plain = SessionAsker(_AllManaged(ssm), SessionPolicy(), clock=clock, sleep=clock.sleep)
    seen = plain.ask(Ec2Workstations().all()[:3])
    assert {s.use for s in seen.values()} == {Use.UNKNOWN}


class _AllManaged:
    """The real adapter for Run Command, every instance's agent online (moto has no DescribeInstanceInformation)."""

    def __init__(self, ssm: SsmCommands) -> None:
        self.ssm = ssm

    def managed(self, instance_ids: list[str]) -> dict[str, str]:
        return dict.fromkeys(instance_ids, "Linux")

    def send(self, instance_ids: list[str], platform: str) -> str:
        return self.ssm.send(instance_ids, platform)

    def results(self, command_id: str):  # type: ignore[no-untyped-def]
        return self.ssm.results(command_id)


def test_workstations_are_asked_with_the_stacks_own_document_never_a_shell_document(fleet: Fleet) -> None:
    """The local stack deploys the presence document from the scripts; the sweep sends it by name, with no script
    text and no parameters a sender could change."""
    from backend.workstations.document import document_name, presence_document

    fleet.service.status()
    fleet.clock.now += 11.5 * HOUR + 60
    fleet.service.sweep()
    ssm = boto3.client("ssm", region_name="us-east-1")
    (command,) = ssm.list_commands()["Commands"]
    assert command["DocumentName"] == document_name("local")
    assert command["Parameters"] == {}
    stored = ssm.get_document(Name=document_name("local"), DocumentFormat="JSON")
    assert stored["DocumentType"] == "Command"
    assert json.loads(stored["Content"]) == presence_document()
