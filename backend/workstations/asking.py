"""Ask running workstations, all at once, who is connected: only those about to be stopped, batched, with a short
bounded wait; whatever does not answer in time (or cannot: no SSM agent) is UNKNOWN, never "free"."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from aws_lambda_powertools import Logger

from backend.errors import AwsError
from backend.workstations.ec2 import Workstation
from backend.workstations.presence import Seen, SessionPolicy, Use, read_answer, seen_from

logger = Logger(service="studiobot-workstations")
BATCH = 50  # SendCommand takes at most 50 instance ids
AGENT_FRESH_S = 600.0  # the optional agent tags every 2 min: an older tag says nothing about now


@dataclass(frozen=True)
class Invocation:
    """How the script ended on one instance, and what it printed."""

    status: str  # SSM's: Success, Failed, TimedOut, Cancelled, Undeliverable…
    output: str


class CommandRunner(Protocol):
    """Runs the presence script on instances (`backend.workstations.ssm.SsmCommands`)."""

    def managed(self, instance_ids: list[str]) -> dict[str, str]: ...
    def send(self, instance_ids: list[str], platform: str) -> str: ...
    def results(self, command_id: str) -> dict[str, Invocation]: ...


class SessionAsker:
    """Asks workstations who is connected, at the moment of deciding."""

    def __init__(
        self,
        runner: CommandRunner,
        policy: SessionPolicy | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        poll_s: float = 1.0,
    ) -> None:
        self.runner = runner
        self.policy = policy or SessionPolicy()
        self.clock = clock
        self.sleep = sleep
        self.poll_s = poll_s

    def ask(self, workstations: Sequence[Workstation], wait_s: float | None = None) -> dict[str, Seen]:
        """What each running workstation says, by name (a workstation not running is not asked)."""
        running = [workstation for workstation in workstations if workstation.state == "running"]
        if not running:
            return {}
        now = self.clock()
        seen: dict[str, Seen] = {}
        by_id = {workstation.instance_id: workstation for workstation in running}
        try:
            managed = self.runner.managed(list(by_id))
        except AwsError as error:
            logger.warning("Systems Manager cannot be asked", error=str(error))
            return {
                w.name: self._fallback(w, now, f"Systems Manager could not be asked ({error})")
                for w in running
            }
        for instance_id, workstation in by_id.items():
            if instance_id not in managed:
                seen[workstation.name] = self._fallback(
                    workstation, now, "no Systems Manager agent answers on it"
                )
        pending: dict[str, tuple[str, str]] = {}  # instance id → (command id, platform)
        for platform in sorted(set(managed.values())):
            ids = [instance_id for instance_id, kind in managed.items() if kind == platform]
            for start in range(0, len(ids), BATCH):
                batch = ids[start : start + BATCH]
                try:
                    command_id = self.runner.send(batch, platform)
                except AwsError as error:
                    for instance_id in batch:
                        seen[by_id[instance_id].name] = self._fallback(by_id[instance_id], now, str(error))
                    continue
                pending.update({instance_id: (command_id, platform) for instance_id in batch})
        deadline = now + (self.policy.ask_wait_s if wait_s is None else wait_s)
        while pending:
            for command_id in dict.fromkeys(command for command, _ in pending.values()):
                try:
                    answers = self.runner.results(command_id)
                except AwsError as error:  # asked again on the next poll; unknown if it never answers
                    logger.warning("answers could not be read", error=str(error))
                    continue
                for instance_id, invocation in answers.items():
                    if pending.get(instance_id, ("",))[0] == command_id:
                        del pending[instance_id]
                        seen[by_id[instance_id].name] = self._understood(invocation)
            if not pending or self.clock() >= deadline:
                break
            self.sleep(self.poll_s)
        waited = round(deadline - now)
        for instance_id in pending:
            workstation = by_id[instance_id]
            seen[workstation.name] = self._fallback(workstation, now, f"it did not answer within {waited} s")
        return seen

    def _understood(self, invocation: Invocation) -> Seen:
        now = self.clock()
        if invocation.status != "Success":
            return Seen(Use.UNKNOWN, why=f"its check ended {invocation.status}", asked_at=now)
        return seen_from(read_answer(invocation.output), self.policy, now)

    def _fallback(self, workstation: Workstation, now: float, why: str) -> Seen:
        """What the optional agent tagged on the instance, if recent; else UNKNOWN with the reason."""
        if (
            workstation.presence
            and workstation.presence_at
            and now - workstation.presence_at <= AGENT_FRESH_S
        ):
            answer = read_answer(workstation.presence)
            if answer is not None:
                return seen_from(answer, self.policy, workstation.presence_at)
        return Seen(Use.UNKNOWN, why=why, asked_at=now)
