"""The commands people type, shared by Slack and the CLI: the words of each command and how text splits into them.

Each command's grammar lives with its domain (`backend.render.grammar`, `backend.workstations.grammar`,
`backend.budgets.grammar`); this table says which first words are subcommands rather than a render's scene.
"""

from __future__ import annotations

import shlex

from backend.errors import ValidationError

# `/render WORD …`: these first words are subcommands; any other first word is a scene to render.
RENDER_SUBCOMMANDS = frozenset({"help", "status", "list", "cancel", "retry", "submit"})
# Subcommands that act on one job and so need its id.
RENDER_JOB_SUBCOMMANDS = frozenset({"cancel", "retry", "submit"})


def split_words(text: str) -> list[str]:
    """Split command text like a shell does (quotes group words)."""
    try:
        return shlex.split(text)
    except ValueError as error:
        raise ValidationError(f"Could not read that command ({error}): check your quotes.") from error


def render_subcommand(words: list[str]) -> str | None:
    """The subcommand of `/render WORDS` (`status`, `cancel`…), or None when the words ask for a render."""
    return words[0].lower() if words and words[0].lower() in RENDER_SUBCOMMANDS else None
