"""`/workstations` and `studiobot workstations`: `parse → run → Reply`, the same for Slack and the terminal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from backend.commands import Caller, Help, Reply
from backend.workstations.grammar import WorkstationsCommand

if TYPE_CHECKING:  # the bot's messages read the replies in the ack path, where nothing may load boto3
    from backend.workstations.service import Change, StatusRow


class Workstations(Protocol):
    """What the desk asks of the workstation service."""

    def status(self, ask_page: tuple[int, int] | None = None) -> list[StatusRow]: ...
    def start(self, name: str, user: str) -> Change: ...
    def stop(self, name: str, user: str) -> Change: ...
    def keepalive(self, name: str, on: bool, user: str) -> Change: ...
    def extend(self, name: str, duration_text: str, user: str) -> Change: ...


@dataclass(frozen=True)
class WorkstationsShown(Reply):
    """One page of the workstations table (the running ones on it asked who is connected, now)."""

    rows: list[StatusRow]
    page: int


@dataclass(frozen=True)
class WorkstationChanged(Reply):
    """A workstation started, stopped, kept alive or extended."""

    change: Change


class WorkstationsDesk:
    """Carries out `/workstations` commands."""

    def __init__(self, service: Workstations, page_rows: int) -> None:
        self.service = service
        self.page_rows = page_rows

    def run(self, command: WorkstationsCommand, caller: Caller) -> Reply:
        """What the command does, as a Reply."""
        service, name, user = self.service, command.name, caller.user
        if command.action == "help":
            return Help()
        if command.action == "status":
            return WorkstationsShown(service.status(ask_page=(command.page, self.page_rows)), command.page)
        if command.action == "start":
            return WorkstationChanged(service.start(name, user))
        if command.action == "stop":
            return WorkstationChanged(service.stop(name, user))
        if command.action == "keepalive":
            return WorkstationChanged(service.keepalive(name, command.argument == "on", user))
        return WorkstationChanged(service.extend(name, command.argument, user))
