"""What every `studiobot` command shares: the Typer app, the console, the operator, the running stack."""

from __future__ import annotations

import dataclasses
import getpass
import shlex
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from backend.config import Access, Settings
from backend.errors import StudiobotError
from backend.people import name_people
from bot.messages.text import plain
from local.embedded import unsaved
from local.embedded.stack import STACK_GONE, StackInfo, use_local_aws
from local.embedded.supervisor import home, read_state, state_folder

app = typer.Typer(
    help="`studiobot`: run the embedded local stack and use it with the same words as Slack's `/render`.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(highlight=False)
warnings = Console(highlight=False, stderr=True)  # beside a command's answer, never inside it
CLI_USER = f"cli:{getpass.getuser()}"
_told_unsaved: list[unsaved.NotSaved] = []  # a command says it once, however often it looks the stack up


def say(text: str) -> None:
    """Print what the bot would post in Slack: its mrkdwn entities back to `&`, `<`, `>`, no rich markup."""
    console.print(plain(text), markup=False)


def fail(message: str) -> typer.Exit:
    """Say what went wrong; the exit (code 1) to raise."""
    # The message as written (a `[--as NAME]` is not markup), on one line: a command in it is never broken; the
    # people a backend sentence names (`backend.people.mention`), by their id.
    console.print(f"[red]✗[/red] {escape(name_people(message, str))}", soft_wrap=True)
    return typer.Exit(code=1)


def stack() -> StackInfo:
    """The running local stack (AWS calls go to it from now on), or exit saying how to start it."""
    state = read_state()
    _tell_unsaved()
    if state is None:
        raise fail("The local stack is not running: start it with `studiobot up`.")
    info = StackInfo(**state["stack"])
    use_local_aws(info.endpoint)
    return info


def _tell_unsaved() -> None:
    """A snapshot failed (`local.embedded.unsaved`): each command says so once, beside its answer."""
    not_saved = unsaved.read(state_folder())
    if not_saved is not None and not _told_unsaved:
        warnings.print(f"✗ {not_saved.sentence()}", markup=False)
        _told_unsaved.append(not_saved)


def as_operator(settings: Settings) -> Settings:
    """On the local stack the person at the terminal is its operator: an admin of every job and workstation."""
    return dataclasses.replace(settings, access=Access(admins=frozenset({CLI_USER})))


def run_guarded(command: Callable[[], Any]) -> NoReturn:
    """Run the CLI so that nothing reaches the terminal as a traceback: our errors are their sentence (exit 1),
    the stack going away is one sentence, anything else one sentence naming the log that holds its traceback."""
    threading.excepthook = lambda hook: _unexpected(hook.exc_value or RuntimeError("a thread stopped"))
    try:
        command()
    except STACK_GONE:  # a command whose stack stopped answering under it
        fail(
            "The local stack stopped answering (it was stopped, or it crashed): `studiobot up` starts it again "
            "with its jobs, and `studiobot render list` shows them."
        )
    except StudiobotError as error:
        fail(str(error))
    except Exception as error:  # the last line: a sentence here, and the traceback in the log
        _unexpected(error)
    else:
        sys.exit(0)
    sys.exit(1)


def _unexpected(error: BaseException) -> None:
    """Say what happened in one sentence; its traceback goes to `cli.log` beside the stack's log."""
    log = home() / "cli.log"
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a") as stream:
            stream.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} studiobot {shlex.join(sys.argv[1:])}\n")
            stream.write("".join(traceback.format_exception(error)))
        where = f"the details are in {log}"
    except OSError:
        where = "the details could not be written to a log"
    fail(
        f"studiobot stopped on something it did not expect ({type(error).__name__}: {error}); {where}: "
        f"send that file with what you typed when you report it."
    )
