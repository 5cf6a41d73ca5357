"""How the text people type splits into words, the same for Slack and the CLI.

Each command's grammar, subcommands included, lives with its domain (`backend.render.grammar`,
`backend.workstations.grammar`, `backend.budgets.grammar`); Slack's listeners and the CLI both use those.
"""

from __future__ import annotations

import shlex

from backend.errors import ValidationError


def split_words(text: str) -> list[str]:
    """Split command text like a shell does (quotes group words)."""
    try:
        return shlex.split(text)
    except ValueError as error:
        raise ValidationError(f"Could not read that command ({error}): check your quotes.") from error
