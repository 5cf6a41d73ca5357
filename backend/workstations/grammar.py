"""The grammar of `/workstations ACTION [NAME] [ARG]` in Slack and `studiobot workstations …`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from backend.commands import Caller, CommandGrammar, Help, Reply, page_option
from backend.config import Settings
from backend.errors import ValidationError
from backend.workstations.durations import parse_duration

WORKSTATIONS_USAGE = (
    "`/workstations status` · `/workstations start NAME` · `/workstations stop NAME` · "
    "`/workstations keepalive NAME on|off` · `/workstations extend NAME 4h` · `/workstations help`"
)


@dataclass(frozen=True)
class WorkstationsCommand:
    """`/workstations ACTION [NAME] [ARG]`, checked for form."""

    action: str
    name: str = ""
    argument: str = ""
    page: int = 1  # status: which page of the table


def parse_workstations(words: Sequence[str]) -> WorkstationsCommand:
    """Parse the words after `/workstations`; raise ValidationError with the usage."""
    if not words:
        return WorkstationsCommand("status")
    action, rest = words[0].lower(), list(words[1:])
    if action == "status" or action.startswith("--page"):  # `--page 2` alone pages the status too
        return WorkstationsCommand(
            "status", page=page_option(rest if action == "status" else words, "/workstations status")
        )
    if action == "help":
        if rest:
            raise ValidationError(
                f"`/workstations {action}` takes nothing more. Usage: {WORKSTATIONS_USAGE}."
            )
        return WorkstationsCommand(action)
    if action in ("start", "stop"):
        if len(rest) != 1:
            raise ValidationError(
                f"Say which workstation to {action}, e.g. `/workstations {action} anim-01`."
            )
        return WorkstationsCommand(action, rest[0])
    if action == "keepalive":
        if len(rest) != 2 or rest[1].lower() not in ("on", "off"):
            raise ValidationError(
                "Say which workstation and `on` or `off`, e.g. `/workstations keepalive anim-01 on`."
            )
        return WorkstationsCommand(action, rest[0], rest[1].lower())
    if action == "extend":
        if len(rest) != 2:
            raise ValidationError(
                "Say which workstation and for how long, e.g. `/workstations extend anim-01 4h`."
            )
        parse_duration(rest[1])  # a mistake in it is answered at once, like any other
        return WorkstationsCommand(action, rest[0], rest[1])
    raise ValidationError(f"`{words[0]}` is not something `/workstations` does. Usage: {WORKSTATIONS_USAGE}.")


class WorkstationsGrammar(CommandGrammar[WorkstationsCommand]):
    """`/workstations`: its help is answered at once; everything else asks EC2."""

    def parse(self, words: Sequence[str], settings: Settings) -> WorkstationsCommand:
        return parse_workstations(words)

    def at_once(self, command: WorkstationsCommand, caller: Caller, settings: Settings) -> Reply | None:
        return Help() if command.action == "help" else None
