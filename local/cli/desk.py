"""`studiobot` runs a slash command's words as Slack does: what Slack's ack would answer (help, a mistake) is printed
at once; anything else goes to the command's desk, whose Reply is printed as the message Slack would show."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import typer

from backend.commands import Caller, Reply
from backend.config import CLI_CHANNEL, Settings
from backend.errors import StudiobotError
from bot.listeners.commands.slash import SlashCommand
from bot.messages.replies import Message
from bot.messages.tables import Tabled
from entry.wiring import Services
from local.cli.terminal import CLI_USER, fail, say

CommandT = TypeVar("CommandT")


def terminal_caller(words: Sequence[str]) -> Caller:
    """The person at the terminal, in the CLI's channel, watching each answer."""
    return Caller(CLI_USER, CLI_CHANNEL, shlex.join(words), terminal=True)


def parsed_or_answered(
    command: SlashCommand[CommandT], words: Sequence[str], settings: Settings
) -> CommandT | None:
    """The words as a command with work to do; None once what Slack's ack would say (help) is printed. A mistake is
    printed and exits 1."""
    caller = terminal_caller(words)
    reply = command.grammar.answer_at_once(caller.text, caller, settings)
    if reply is None:
        return command.grammar.parse(words, settings)
    say(command.message(reply, settings)[0])
    if words[:1] and words[0].lower() != "help":
        raise typer.Exit(code=1)
    return None


def run_words(
    command: SlashCommand[CommandT],
    words: Sequence[str],
    settings: Settings,
    shown: Callable[[Message], str] = lambda message: message[0],
) -> Reply | None:
    """Print the answer to a command's words (`shown`: the message as terminal text); the desk's Reply, or None
    when there was no work to do."""
    parsed = parsed_or_answered(command, words, settings)
    if parsed is None:
        return None
    try:
        reply = command.desk(Services(settings)).run(parsed, terminal_caller(words))
    except StudiobotError as error:
        raise fail(str(error)) from None
    say(shown(command.message(reply, settings)))
    return reply


def blocks_text(shown: list[dict[str, Any]]) -> str:
    """What a person reads in Slack's blocks, for a terminal: every section (tables without their code fences)
    and every context line (the page note: "…and 270 more: `--page 2`")."""
    lines = []
    for block in shown:
        if block.get("type") == "section" and "text" in block:
            lines.append(block["text"]["text"].replace("```", "").strip("\n"))
        elif block.get("type") == "context":
            lines.extend(element.get("text", "") for element in block.get("elements", []))
    return "\n".join(lines)


def message_blocks_text(message: Message) -> str:
    """A message for the terminal, read from its blocks when it has any (tables: as code blocks), else its text."""
    text, blocks = message.fallback if isinstance(message, Tabled) else message
    return blocks_text(blocks) if blocks else text
