"""The local stack's state is saved, or the person at the terminal is told: every service the stack uses survives a
snapshot, and a snapshot that fails is said by `down`, `up` and the next command, in one sentence."""

from __future__ import annotations

import pytest

from bench.faults_state import SERVICES, round_trip


@pytest.fixture(autouse=True)
def _moto_port(monkeypatch: pytest.MonkeyPatch) -> None:
    """`start_moto_server` sets `MOTO_PORT` for this process: put it back after each test."""
    monkeypatch.setenv("MOTO_PORT", "0")


def test_every_service_the_stack_uses_survives_a_snapshot_and_comes_back(tmp_path) -> None:
    # GIVEN a stack on which S3, SQS, SNS, DynamoDB, EC2, SSM (Run Command as the presence check asks it), Step
    # Functions, Batch and Scheduler were each called; WHEN it is snapshotted, stopped and brought back
    found = round_trip(tmp_path / "state")
    # THEN what was made in each is there again
    assert found == dict.fromkeys(SERVICES, True)
