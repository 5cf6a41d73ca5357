"""The local stack's state is saved, or the person at the terminal is told: every service the stack uses survives a
snapshot, and a snapshot that fails is said by `down`, `up` and the next command, in one sentence."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.faults_state import SERVICES, round_trip
from local.embedded.stack import REPO_ROOT

from .test_local_stack import studiobot


@pytest.fixture(autouse=True)
def _moto_port(monkeypatch: pytest.MonkeyPatch) -> None:
    """`start_moto_server` sets `MOTO_PORT` for this process: put it back after each test."""
    monkeypatch.setenv("MOTO_PORT", "0")


def test_every_service_the_stack_uses_survives_a_snapshot_and_comes_back(tmp_path: Path) -> None:
    # GIVEN a stack on which S3, SQS, SNS, DynamoDB, EC2, SSM (Run Command as the presence check asks it), Step
    # Functions, Batch and Scheduler were each called; WHEN it is snapshotted, stopped and brought back
    found = round_trip(tmp_path / "state")
    # THEN what was made in each is there again
    assert found == dict.fromkeys(SERVICES, True)


# A stack as `studiobot up` starts it, whose moto is given one thing no snapshot can pickle once it is up.
POISONED_STACK = """
import sys
from local.embedded import supervisor

started = supervisor.Supervisor.start


def start(self):
    info = started(self)
    from moto.sqs.models import sqs_backends

    sqs_backends["123456789012"]["us-east-1"].unpicklable = lambda: None
    self.server.gate.changed = True
    return info


supervisor.Supervisor.start = start
sys.argv = ["local.embedded.supervisor", "--workers", "0", "--save-every", "0.5"]
supervisor.main()
"""
NOT_SAVED = re.compile(
    r"State not saved since \d\d:\d\d: \w+Error: [^\n]*pickle[^\n]* — `studiobot down --forget` starts fresh\."
)


def _said(answer: subprocess.CompletedProcess[str]) -> str:
    return " ".join((answer.stdout + answer.stderr).split())


@pytest.mark.slow
def test_a_snapshot_that_fails_is_said_by_the_next_command_by_down_and_by_up(tmp_path: Path) -> None:
    # GIVEN a running stack whose snapshots fail
    home = tmp_path / ".studiobot"
    home.mkdir()
    env = {**os.environ, "STUDIOBOT_HOME": str(home)}
    env.pop("AWS_ENDPOINT_URL", None)
    with (home / "stack.log").open("ab") as log:
        stack = subprocess.Popen(
            [sys.executable, "-c", POISONED_STACK], env=env, cwd=REPO_ROOT, stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + 60
        while "could not save" not in (home / "stack.log").read_text() and time.monotonic() < deadline:
            assert stack.poll() is None, (home / "stack.log").read_text()
            time.sleep(0.2)

        # WHEN the next command runs, THEN it says so in one sentence
        assert NOT_SAVED.search(_said(studiobot(home, "render", "list"))), _said(
            studiobot(home, "render", "list")
        )

        # WHEN the stack is stopped, THEN `down` says it too, and does not claim the state is saved
        stopped = studiobot(home, "down")
        assert NOT_SAVED.search(_said(stopped)) and "✓" not in stopped.stdout, _said(stopped)
        assert stack.wait(30) == 0
    finally:
        if stack.poll() is None:
            stack.kill()

    # WHEN the stack is started again, THEN `up` says what it came back without
    started = studiobot(home, "up", "--workers", "0")
    assert started.returncode == 0 and NOT_SAVED.search(_said(started)), _said(started)
    # AND once a snapshot succeeds again, `down` says the state is saved, and nothing more
    stopped = studiobot(home, "down")
    assert "✓" in stopped.stdout and "not saved" not in _said(stopped), _said(stopped)
    assert "not saved" not in _said(studiobot(home, "render", "list"))
