"""Workstation session leases: Nimble's limits, bounded extensions, and alerts once per lease."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from backend.errors import ConflictError, ValidationError
from backend.workstations.leases import DynamoLeases, LeaseState

from .conftest import Stack

HOUR = 3600.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def leases(stack: Stack) -> tuple[DynamoLeases, Clock]:
    clock = Clock()
    return DynamoLeases(stack.settings.table_name, clock=clock), clock


def test_a_running_session_gets_11_5_hours_and_a_stopped_one_4_days(
    leases: tuple[DynamoLeases, Clock],
) -> None:
    store, clock = leases
    running = store.observe("anim-01", "i-1", running=True, current=None)
    assert running.state is LeaseState.RUNNING and running.expires_at - clock.now == 11.5 * HOUR
    assert store.observe("anim-01", "i-1", running=True, current=running) == running  # nothing changed
    clock.now += HOUR
    stopped = store.observe("anim-01", "i-1", running=False, current=running)
    assert stopped.state is LeaseState.STOPPED and stopped.expires_at - clock.now == 4 * 24 * HOUR
    assert stopped.lease_id != running.lease_id
    assert store.get("anim-01") == stopped


def test_extend_pushes_a_running_lease_within_the_limits(leases: tuple[DynamoLeases, Clock]) -> None:
    store, _ = leases
    lease = store.observe("anim-01", "i-1", running=True, current=None)
    extended = store.extend("anim-01", timedelta(hours=4))
    assert extended.expires_at == lease.expires_at + 4 * HOUR
    with pytest.raises(
        ValidationError, match=r"An extension can be at most 8 h: try `/workstations extend anim-01 8h`"
    ):
        store.extend("anim-01", timedelta(hours=9))
    store.extend("anim-01", timedelta(hours=4))  # 11.5 + 4 + 4 = 19.5 h of the 24 h a session may last
    with pytest.raises(ValidationError, match=r"`anim-01` can be extended by 4 h 30 min more at most"):
        store.extend("anim-01", timedelta(hours=5))


def test_a_stopped_workstation_cannot_be_extended(leases: tuple[DynamoLeases, Clock]) -> None:
    store, _ = leases
    store.observe("comp-01", "i-2", running=False, current=None)
    with pytest.raises(ConflictError, match="`comp-01` is not running"):
        store.extend("comp-01", timedelta(hours=1))


def test_a_warning_is_claimed_once_per_lease_and_again_after_an_extension(
    leases: tuple[DynamoLeases, Clock],
) -> None:
    store, _ = leases
    lease = store.observe("anim-01", "i-1", running=True, current=None)
    wins: list[bool] = []
    barrier = threading.Barrier(8)

    def claim() -> None:
        barrier.wait()
        wins.append(store.claim_warning(lease))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wins.count(True) == 1
    extended = store.extend("anim-01", timedelta(hours=2))
    assert store.claim_warning(extended) and not store.claim_warning(extended)
    assert not store.claim_warning(lease)  # a stale view of the lease claims nothing
    assert store.claim_expiry(extended) and not store.claim_expiry(extended)


def test_two_sweeps_observing_the_same_start_agree_on_one_lease(leases: tuple[DynamoLeases, Clock]) -> None:
    store, _ = leases
    first = store.observe("anim-01", "i-1", running=True, current=None)
    second = store.observe("anim-01", "i-1", running=True, current=None)  # raced: saw no lease either
    assert second == first
