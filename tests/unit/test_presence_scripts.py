"""The presence scripts a workstation runs (backend/workstations/scripts) and the agent that tags with them.

presence.sh runs here under bash with a PATH of stand-ins: a fake `dcv` answering from JSON files, a fake
`xprintidle`, and only the few real tools the script may use. The PowerShell script is checked statically
(and run only where `pwsh` exists).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "backend" / "workstations" / "scripts"
AGENT = ROOT / "agent"
BASH = shutil.which("bash") or "/bin/bash"
CONTRACT_KEYS = ["studiobot_presence", "dcv", "connections", "idle_s"]
NO_ANSWER = {"studiobot_presence": 1, "dcv": False, "connections": [], "idle_s": None}

# `dcv SUBCOMMAND [-j] [SESSION]` prints $FAKE_DCV/SUBCOMMAND[-SESSION].json, or fails when there is none.
FAKE_DCV = """#!/bin/bash
command=$1; shift
session=""
for arg in "$@"; do case $arg in -j|--json) ;; *) session=$arg ;; esac; done
answer="$FAKE_DCV/$command${session:+-$session}.json"
[ -f "$answer" ] || exit 1
cat "$answer"
"""
# Records the display it was pointed at, then prints milliseconds since the last input.
FAKE_XPRINTIDLE = """#!/bin/bash
echo "${DISPLAY:-} ${XAUTHORITY:-}" > "$FAKE_DCV/xprintidle.seen"
cat "$FAKE_DCV/idle_ms"
"""
# logind, where xprintidle is missing: one session of anna's on display :1, idle since $FAKE_DCV/idle_since_us.
FAKE_LOGINCTL = """#!/bin/bash
case "$1" in
  list-sessions) echo "      3 1009 anna seat0 tty2" ;;
  show-session) printf 'Display=:1\\nIdleHint=yes\\nIdleSinceHint=%s\\n' "$(cat "$FAKE_DCV/idle_since_us")" ;;
esac
"""
# The agent's outside world: instance metadata, and an `aws` that records what it was asked.
FAKE_CURL = """#!/bin/bash
case "$*" in
  *api/token*) echo token ;;
  *meta-data/instance-id*) echo i-0123456789abcdef0 ;;
  *meta-data/placement/region*) echo eu-west-1 ;;
  *) exit 22 ;;
esac
"""
FAKE_AWS = """#!/bin/bash
printf '%s\\n' "$@" > "$FAKE_DCV/aws.args"
"""


@dataclass
class Box:
    """A workstation in miniature: its PATH, and what its fake DCV will answer."""

    root: Path

    @property
    def answers(self) -> Path:
        return self.root / "dcv"

    def install(self, name: str, body: str) -> None:
        path = self.root / "bin" / name
        path.write_text(body)
        path.chmod(0o755)

    def dcv(self, **answers: Any) -> None:
        """Install DCV; each keyword (`list_sessions`, `list_connections__SESSION`…) is what that command prints."""
        self.install("dcv", FAKE_DCV)
        for name, value in answers.items():
            command, _, session = name.replace("_", "-").partition("--")
            file = f"{command}-{session}" if session else command
            text = value if isinstance(value, str) else json.dumps(value)
            (self.answers / f"{file}.json").write_text(text)

    def idle_ms(self, milliseconds: int) -> None:
        self.install("xprintidle", FAKE_XPRINTIDLE)
        (self.answers / "idle_ms").write_text(f"{milliseconds}\n")

    def run(self, script: Path, *args: str) -> subprocess.CompletedProcess[str]:
        env = {"PATH": str(self.root / "bin"), "FAKE_DCV": str(self.answers), "LC_ALL": "C"}
        return subprocess.run(
            [BASH, str(script), *args], capture_output=True, text=True, env=env, timeout=30, check=False
        )

    def presence(self) -> dict[str, Any]:
        result = self.run(SCRIPTS / "presence.sh")
        assert result.returncode == 0, result.stderr
        last = result.stdout.strip().splitlines()[-1]
        answer: dict[str, Any] = json.loads(last)
        assert list(answer) == CONTRACT_KEYS
        return answer


def _box(tmp_path: Path, *, python: bool) -> Box:
    box = Box(tmp_path)
    (tmp_path / "bin").mkdir()
    box.answers.mkdir()
    for tool in ("bash", "cat", "tr", "sed", "grep", "tail", "date", "dirname"):
        real = shutil.which(tool)
        assert real, f"{tool} is needed to run the presence scripts"
        (tmp_path / "bin" / tool).symlink_to(real)
    if python:  # the interpreter itself (a `python3` on PATH may be a shim needing more of PATH)
        (tmp_path / "bin" / "python3").symlink_to(Path(sys.executable).resolve())
    return box


@pytest.fixture
def box(tmp_path: Path) -> Box:
    return _box(tmp_path, python=True)


SESSION = {"id": "anna-ws", "owner": "anna", "type": "virtual", "num-of-connections": 2}
DESCRIBED = {
    "id": "anna-ws",
    "owner": "anna",
    "x11-display": ":1",
    "x11-authority": "/run/user/1009/dcv/a.xauth",
}
TWO_CONNECTIONS = [
    {"id": "1", "user": "anna", "connection-time": "2026-11-30T19:40:00.262883Z"},
    {"id": "2", "user": "ben", "connection-time": "2026-11-30T21:45:00+01:00"},
]


def test_without_dcv_it_cannot_tell(box: Box) -> None:
    assert box.presence() == NO_ANSWER


def test_a_dcv_server_that_does_not_answer_cannot_tell(box: Box) -> None:
    box.dcv()  # the CLI is there, `list-sessions` fails
    assert box.presence() == NO_ANSWER


def test_dcv_with_no_sessions_means_nobody_is_connected(box: Box) -> None:
    box.dcv(list_sessions=[])
    assert box.presence() == {"studiobot_presence": 1, "dcv": True, "connections": [], "idle_s": None}


def test_one_session_with_two_connections_and_three_minutes_idle(box: Box) -> None:
    box.dcv(
        list_sessions=[SESSION],
        list_connections__anna_ws=TWO_CONNECTIONS,
        describe_session__anna_ws=DESCRIBED,
    )
    box.idle_ms(180_400)
    assert box.presence() == {
        "studiobot_presence": 1,
        "dcv": True,
        "connections": [
            {"user": "anna", "since": "2026-11-30T19:40:00Z"},
            {"user": "ben", "since": "2026-11-30T20:45:00Z"},
        ],
        "idle_s": 180,
    }
    # xprintidle asked the session's own X server, with its authority file (root is not its owner)
    assert (box.answers / "xprintidle.seen").read_text().split() == [":1", "/run/user/1009/dcv/a.xauth"]


def test_without_an_idle_tool_the_idle_time_is_unknown(box: Box) -> None:
    box.dcv(
        list_sessions=[SESSION],
        list_connections__anna_ws=TWO_CONNECTIONS,
        describe_session__anna_ws=DESCRIBED,
    )
    answer = box.presence()
    assert [item["user"] for item in answer["connections"]] == ["anna", "ben"]
    assert answer["idle_s"] is None


def test_without_xprintidle_logind_may_tell_how_long_the_session_is_idle(box: Box) -> None:
    box.dcv(
        list_sessions=[SESSION],
        list_connections__anna_ws=TWO_CONNECTIONS,
        describe_session__anna_ws=DESCRIBED,
    )
    box.install("loginctl", FAKE_LOGINCTL)
    (box.answers / "idle_since_us").write_text(str(int((time.time() - 600) * 1_000_000)))
    assert 598 <= box.presence()["idle_s"] <= 605


def test_the_line_is_the_last_and_the_exact_contract_text(box: Box) -> None:
    box.dcv(list_sessions=[])
    result = box.run(SCRIPTS / "presence.sh")
    assert result.stdout == '{"studiobot_presence": 1, "dcv": true, "connections": [], "idle_s": null}\n'


def test_odd_user_names_and_missing_fields_still_make_json(box: Box) -> None:
    awkward = 'o"brien\\CORP'
    box.dcv(list_sessions=[SESSION], list_connections__anna_ws=[{"user": awkward}, {}, 7])
    answer = box.presence()
    assert answer["connections"] == [
        {"user": awkward, "since": None},
        {"user": None, "since": None},
        {"user": None, "since": None},
    ]


def test_unlisted_connections_fall_back_to_the_sessions_count(box: Box) -> None:
    box.dcv(list_sessions=[SESSION])  # `list-connections` fails
    assert box.presence()["connections"] == [{"user": None, "since": None}] * 2


def test_a_session_whose_connections_cannot_be_told_makes_the_answer_unknown(box: Box) -> None:
    box.dcv(list_sessions=[{"id": "anna-ws", "owner": "anna"}])
    assert box.presence() == NO_ANSWER
    box.dcv(list_sessions="Session: 'anna-ws' (owner:anna type:virtual)")  # a DCV without JSON output
    assert box.presence() == NO_ANSWER


def test_without_python3_it_counts_connections_from_the_sessions(tmp_path: Path) -> None:
    box = _box(tmp_path, python=False)
    box.dcv(list_sessions=[SESSION, {"id": "console", "owner": "ben", "num-of-connections": 1}])
    assert box.presence() == {
        "studiobot_presence": 1,
        "dcv": True,
        "connections": [{"user": None, "since": None}] * 3,
        "idle_s": None,
    }
    box.dcv(list_sessions=[])
    assert box.presence()["connections"] == []
    box.dcv(list_sessions="not json")
    assert box.presence() == NO_ANSWER


def _agent_tags(box: Box) -> dict[str, str]:
    shutil.copy(SCRIPTS / "presence.sh", box.root / "presence.sh")
    shutil.copy(AGENT / "studiobot-presence-agent.sh", box.root / "agent.sh")
    box.install("curl", FAKE_CURL)
    box.install("aws", FAKE_AWS)
    result = box.run(box.root / "agent.sh")
    assert result.returncode == 0, result.stderr
    args = (box.answers / "aws.args").read_text().splitlines()
    assert args[:6] == ["ec2", "create-tags", "--region", "eu-west-1", "--resources", "i-0123456789abcdef0"]
    assert args[6] == "--tags"
    return {tag["Key"]: tag["Value"] for tag in json.loads(args[7])}


@pytest.mark.parametrize("python", [True, False])
def test_the_agent_tags_its_own_instance_with_the_compact_answer(tmp_path: Path, python: bool) -> None:
    box = _box(tmp_path, python=python)
    box.dcv(list_sessions=[SESSION])
    tags = _agent_tags(box)
    assert set(tags) == {"studiobot:presence", "studiobot:presence-at"}
    assert " " not in tags["studiobot:presence"]
    assert json.loads(tags["studiobot:presence"])["connections"] == [{"user": None, "since": None}] * 2
    assert tags["studiobot:presence-at"].isdigit()


def test_past_256_characters_the_agent_keeps_the_first_connection_and_the_count(box: Box) -> None:
    many = [{"user": f"artist{n:02}", "connection-time": "2026-11-30T19:40:00Z"} for n in range(12)]
    box.dcv(list_sessions=[SESSION | {"num-of-connections": 12}], list_connections__anna_ws=many)
    tag = _agent_tags(box)["studiobot:presence"]
    assert len(tag) <= 256
    assert json.loads(tag) == {
        "studiobot_presence": 1,
        "dcv": True,
        "connections": [{"user": "artist00", "since": "2026-11-30T19:40:00Z"}],
        "count": 12,
        "idle_s": None,
    }


def test_the_powershell_script_speaks_the_same_contract() -> None:
    text = (SCRIPTS / "presence.ps1").read_text()
    for script in ("presence.sh", "presence.ps1"):
        header = (SCRIPTS / script).read_text()
        (example,) = re.findall(r"^#\s+(\{\"studiobot_presence\".*\})$", header, flags=re.MULTILINE)
        assert list(json.loads(example)) == CONTRACT_KEYS, script
    assert "studiobot_presence = 1; dcv = $dcvAnswered; connections = $list; idle_s = $idle" in text
    assert "ConvertTo-Json $answer -Compress" in text
    assert r"C:\Program Files\NICE\DCV\Server\bin\dcv.exe" in text
    assert "list-connections -j" in text and "list-sessions -j" in text
    assert "quser" in text and "GetLastInputInfo" in text
    assert text.count("exit 0") == 1  # every way out goes through Write-Presence


@pytest.mark.skipif(shutil.which("pwsh") is None, reason="PowerShell (pwsh) is not installed")
def test_the_powershell_script_without_dcv_cannot_tell() -> None:
    result = subprocess.run(
        ["pwsh", "-NoProfile", "-File", str(SCRIPTS / "presence.ps1")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    assert json.loads(result.stdout.strip().splitlines()[-1]) == NO_ANSWER
