"""How the text people type splits into words and numbers, the same for Slack and the CLI.

Each command's grammar, subcommands included, lives with its domain (`backend.render.grammar`,
`backend.workstations.grammar`, `backend.budgets.grammar`); Slack's listeners and the CLI both use those. Every
number any of them reads goes through `whole_number`.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from backend.errors import ValidationError


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
