"""How the text people type splits into words and numbers, the same for Slack and the CLI.

Each command's grammar, subcommands included, lives with its domain (`backend.render.grammar`,
`backend.workstations.grammar`, `backend.budgets.grammar`); Slack's listeners and the CLI both use those. Every
number any of them reads goes through `whole_number`.

Every command is `parse → run → Reply` (`CommandGrammar`, `Desk`, `Reply`): Slack's listener and the CLI parse the
same words, call the same desk and show what it returns, each in its own way.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from backend.errors import StudiobotError, ValidationError

if TYPE_CHECKING:
    from backend.config import Settings

CommandT = TypeVar("CommandT")
CommandT_contra = TypeVar("CommandT_contra", contravariant=True)


def split_words(text: str) -> list[str]:
    """Split command text like a shell does (quotes group words)."""
    try:
        return shlex.split(text)
    except ValueError as error:
        raise ValidationError(f"Could not read that command ({error}): check your quotes.") from error


def whole_number(
    text: str, lowest: int, highest: int, mistake: str, too_low: str = "", too_high: str = ""
) -> int:
    """`text` as a whole number from `lowest` to `highest`: ASCII digits with an optional leading `-`.

    Anything else (`²`, `٣`, `1.5`, `+5`, spaces) raises ValidationError(`mistake`); a number out of range raises
    `too_low` or `too_high` (`mistake` when not given), decided before a long run of digits becomes an int.
    """
    negative = text.startswith("-")
    digits = text[1:] if negative else text
    if not (digits.isascii() and digits.isdigit()):  # str.isdigit alone takes `²`, which int() refuses
        raise ValidationError(mistake)
    widest = len(str(max(abs(lowest), abs(highest))))
    if len(digits.lstrip("0")) > widest:
        raise ValidationError((too_low if negative else too_high) or mistake)
    value = int(text)
    if value < lowest:
        raise ValidationError(too_low or mistake)
    if value > highest:
        raise ValidationError(too_high or mistake)
    return value


MAX_PAGE = 10_000


def page_option(words: Sequence[str], command: str) -> int:
    """The page a listing asks for: `--page N` (or `--page=N`), the only words it takes; 1 without them."""
    example = f"e.g. `{command} --page 2`"
    if not words:
        return 1
    name, has_value, value = words[0].partition("=")
    rest = list(words[1:])
    if name.lower() != "--page":
        raise ValidationError(f"`{command}` takes nothing more than `--page N`, {example}.")
    if not has_value:
        if not rest:
            raise ValidationError(f"`--page` needs a number, {example}.")
        value, rest = rest[0], rest[1:]
    if rest:
        raise ValidationError(f"`{command}` takes nothing more than `--page N`, {example}.")
    mistake = f"`--page {value}` must be a whole number from 1 to {MAX_PAGE:,}, {example}."
    return whole_number(value, 1, MAX_PAGE, mistake)


# -- one command desk: what Slack's slash commands and `studiobot …` share ---------------------------------------


@dataclass(frozen=True)
class Caller:
    """Who sent a command and from where: a Slack channel, or the terminal's `cli`."""

    user: str
    channel: str
    text: str = ""  # the words as they were sent
    trigger_id: str = ""  # Slack's id of one slash command: its retries carry the same
    # The person watches each answer in a terminal (`studiobot …`): each render they send is a new one, and a retry
    # is announced where they asked.
    terminal: bool = False


class Reply:
    """What a desk answers: plain data that each edge turns into Slack blocks or terminal lines."""


@dataclass(frozen=True)
class Said(Reply):
    """A sentence of ours (around words people typed), not a mistake."""

    text: str


@dataclass(frozen=True)
class Mistake(Reply):
    """A mistake or a refusal the backend worded, said with a warning."""

    text: str


@dataclass(frozen=True)
class Refused(Reply):
    """What someone may not do (not a mistake), said plainly."""

    text: str


@dataclass(frozen=True)
class Help(Reply):
    """The command's help."""


class Desk(Protocol[CommandT_contra]):
    """Carries out a parsed command: `parse → run → Reply`, the same for Slack and the terminal."""

    def run(self, command: CommandT_contra, caller: Caller) -> Reply: ...


class CommandGrammar(Generic[CommandT]):
    """The half of a command answered without AWS (in Slack's ack, in the terminal before the stack is used): the
    allow-lists, the words' form, help."""

    refusal_reply: Callable[[str], Reply] = Mistake  # how this command says "not here, not you"

    def parse(self, words: Sequence[str], settings: Settings) -> CommandT:
        """The words as a command; ValidationError with a usage hint."""
        raise NotImplementedError

    def at_once(self, command: CommandT, caller: Caller, settings: Settings) -> Reply | None:
        """The whole answer to a well-formed command when no AWS call is needed (help); None when there is work."""
        return None

    def answer_at_once(self, text: str, caller: Caller, settings: Settings) -> Reply | None:
        """The whole answer when it needs no AWS call (a refusal, a mistake, help); None when there is work."""
        refusal = settings.access.refusal(caller.user, caller.channel)
        if refusal:
            return self.refusal_reply(refusal)
        try:
            command = self.parse(split_words(text), settings)
        except StudiobotError as error:
            return Mistake(str(error))
        return self.at_once(command, caller, settings)
