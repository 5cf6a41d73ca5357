"""Workstations as Systems Manager's Run Command reaches them, where moto cannot answer: which agents are online,
and what the presence script prints on each. SendCommand and ListCommandInvocations still go to moto (through the real
`SsmCommands`), so their shape is checked; only the script's output comes from here."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from backend.workstations.asking import Invocation
from backend.workstations.ssm import SsmCommands


@dataclass
class Desk:
    """One workstation's side: its agent, its platform, and what DCV would say (None: the script never ends)."""

    platform: str = "Linux"
    agent: bool = True
    answer: dict[str, Any] | None = field(default_factory=lambda: _answer([]))
    status: str = "Success"


def _answer(
    connections: list[dict[str, Any]], idle_s: float | None = None, dcv: bool = True
) -> dict[str, Any]:
    return {"studiobot_presence": 1, "dcv": dcv, "connections": connections, "idle_s": idle_s}


class WorkstationShells:
    """Satisfies `backend.workstations.asking.CommandRunner`; every instance starts managed and free."""

    def __init__(self, ssm: SsmCommands | None = None) -> None:
        self.ssm = ssm or SsmCommands()
        self.desks: dict[str, Desk] = {}
        self.sent: list[tuple[str, list[str]]] = []  # (platform, instance ids) per SendCommand

    def desk(self, instance_id: str) -> Desk:
        return self.desks.setdefault(instance_id, Desk())

    def connected(self, instance_id: str, user: str, since: str, idle_s: float | None) -> None:
        self.desk(instance_id).answer = _answer([{"user": user, "since": since}], idle_s)

    def free(self, instance_id: str) -> None:
        self.desk(instance_id).answer = _answer([], 0)

    def no_agent(self, instance_id: str) -> None:
        self.desk(instance_id).agent = False

    def silent(self, instance_id: str) -> None:
        self.desk(instance_id).answer = None

    def no_dcv(self, instance_id: str) -> None:
        self.desk(instance_id).answer = _answer([], None, dcv=False)

    def managed(self, instance_ids: list[str]) -> dict[str, str]:
        return {iid: self.desk(iid).platform for iid in instance_ids if self.desk(iid).agent}

    def send(self, instance_ids: list[str], platform: str) -> str:
        assert len(instance_ids) <= 50, "SendCommand takes at most 50 instance ids"
        assert all(self.desk(iid).agent and self.desk(iid).platform == platform for iid in instance_ids)
        self.sent.append((platform, list(instance_ids)))
        return self.ssm.send(instance_ids, platform)

    def results(self, command_id: str) -> dict[str, Invocation]:
        answers = {}
        for instance_id in self.ssm.results(command_id):  # moto's invocations, each with an empty output
            desk = self.desk(instance_id)
            if desk.answer is not None:  # None: still running on the instance, the asker's wait runs out
                answers[instance_id] = Invocation(
                    desk.status, "some log line\n" + json.dumps(desk.answer) + "\n"
                )
        return answers
