"""What the workstation services talk to, declared once (events: `backend.events.EventPublisher`).

`backend.workstations.ec2.Ec2Workstations` satisfies `WorkstationProvider`; tests may hand in a fake.
"""

from __future__ import annotations

from typing import Protocol

from backend.workstations.ec2 import Workstation


class WorkstationProvider(Protocol):
    """The studio's workstations: find, start, stop, tag."""

    def all(self) -> list[Workstation]: ...
    def named(self, name: str, workstations: list[Workstation] | None = None) -> Workstation: ...
    def start(self, instance_ids: list[str]) -> None: ...
    def stop(self, instance_ids: list[str]) -> None: ...
    def set_keepalive(self, instance_id: str, on: bool) -> None: ...
