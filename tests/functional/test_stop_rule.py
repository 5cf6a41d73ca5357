"""One rule before any stop: only a workstation that answered "nobody connected" is stopped. The expiry sweep and
the keep-alive (and an admin's stop) decide the same for every answer — connected, idle, unknown, an error, or
nothing able to ask — and say the same about why a workstation was left running ("unknown" is never "free")."""

from __future__ import annotations

from collections.abc import Callable

import boto3
import pytest

from backend.config import Access
from backend.errors import AwsError, ConflictError
from backend.events import SessionKept
from backend.workstations.asking import SessionAsker
from backend.workstations.ec2 import Ec2Workstations
from backend.workstations.keepalive import KeepAlive
from backend.workstations.leases import DynamoLeases
from backend.workstations.presence import Seen, SessionPolicy, Use, said
from backend.workstations.service import WorkstationService
from testing.shell import WorkstationShells

from .conftest import Stack
from .test_workstation_presence import Clock
from .test_workstation_provider import launch
from .test_workstations import ADMIN, HOUR, Published

SINCE = "2027-01-15T07:40:00Z"
CALLERS = ("sweep", "keep", "admin")


class RefusingShells(WorkstationShells):
    """Systems Manager answers with an error when asked which instances it manages."""

    def managed(self, instance_ids: list[str]) -> dict[str, str]:
        raise AwsError("Systems Manager is busy right now: try again in a minute.")


def _failed(shells: WorkstationShells, instance_id: str) -> None:
    shells.desk(instance_id).status = "Failed"


ANSWERS: dict[str, Callable[[WorkstationShells, str], None]] = {
    "free": lambda shells, iid: shells.free(iid),
    "connected": lambda shells, iid: shells.connected(iid, "anna", SINCE, idle_s=180),
    "idle": lambda shells, iid: shells.connected(iid, "anna", SINCE, idle_s=2 * HOUR),
    "unknown: no DCV": lambda shells, iid: shells.no_dcv(iid),
    "unknown: no answer in time": lambda shells, iid: shells.silent(iid),
    "unknown: no agent": lambda shells, iid: shells.no_agent(iid),
    "error: the check failed on it": _failed,
    "error: Systems Manager refused": lambda shells, iid: None,  # RefusingShells
    "nothing can ask": lambda shells, iid: None,  # no asker at all
}


def _said(event: SessionKept) -> str:
    """What the sweep told the owner about the workstation, in the keep-alive report's words."""
    seen = Seen(
        Use(event.use),
        tuple(event.users),
        event.since or None,
        event.idle_s if event.idle_s >= 0 else None,
        event.why,
    )
    return said(seen)


@pytest.mark.parametrize("answer", list(ANSWERS))
def test_the_sweep_the_keep_alive_and_an_admin_decide_the_same_for_every_answer(
    stack: Stack, answer: str
) -> None:
    # GIVEN one running workstation per caller, each answering the same way
    ec2 = boto3.client("ec2", region_name="us-east-1")
    ids = {caller: launch(ec2, 1, caller, "U0ANNA")[0] for caller in CALLERS}
    clock, published = Clock(), Published()
    shells = RefusingShells() if answer == "error: Systems Manager refused" else WorkstationShells()
    for instance_id in ids.values():
        ANSWERS[answer](shells, instance_id)
    asker = None if answer == "nothing can ask" else SessionAsker(shells, SessionPolicy(), clock, clock.sleep)
    leases = DynamoLeases(stack.settings.table_name, clock=clock)
    access = Access(admins=frozenset({ADMIN}))
    service = WorkstationService(Ec2Workstations(), leases, published, access, clock=clock, asker=asker)
    keep = KeepAlive(Ec2Workstations(), leases, published, clock=clock, asker=asker)
    service.status()  # the leases begin
    clock.now += 11.5 * HOUR + 60  # and lapse

    # WHEN each caller decides
    kept = keep.stop_started([{"name": "keep-00", "instance_id": ids["keep"]}])
    try:
        service.stop("admin-00", ADMIN)
        admin_stopped = True
    except ConflictError:
        admin_stopped = False
    swept = service.sweep()

    # THEN they decide alike, and say alike why they left it running
    stopped = {
        "sweep": "sweep-00" in swept.stopped,
        "keep": "keep-00" in kept.stopped,
        "admin": admin_stopped,
    }
    assert stopped == dict.fromkeys(CALLERS, answer == "free")
    if answer != "free":
        (event,) = [e for e in published.events if isinstance(e, SessionKept) and e.name == "sweep-00"]
        assert _said(event) == kept.left_because["keep-00"]
    running = {w.name for w in Ec2Workstations().all() if w.state == "running"}
    assert running == (set() if answer == "free" else {f"{caller}-00" for caller in CALLERS})
