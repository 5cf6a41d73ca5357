"""How a backend sentence names a person: by id, in a token each edge writes its own way (Slack as a mention,
the CLI as plain text). The backend never writes a chat service's markup.

Our sentences quote the words people typed in backticks (from the first backtick to the last) and name people
outside the quotes, so a token inside the quotes is typed words and is left as typed.
"""

from __future__ import annotations

import re
from collections.abc import Callable

NAMED = re.compile(r"@\{([^{}`\s]+)\}")  # `@{U0ARTIST}`: a person, by id


def mention(user_id: str) -> str:
    """The person `user_id` named in a sentence: `@{U0ARTIST}`, which each edge writes with `name_people`."""
    return f"@{{{user_id}}}"


def name_people(text: str, name: Callable[[str], str]) -> str:
    """`text` with each person it names outside its quoted words written as `name(user_id)`."""
    first, last = text.find("`"), text.rfind("`")
    if first == -1:
        return _named(text, name)
    return _named(text[:first], name) + text[first : last + 1] + _named(text[last + 1 :], name)


def _named(text: str, name: Callable[[str], str]) -> str:
    return NAMED.sub(lambda token: name(token.group(1)), text)
