"""Names are data, never paths: the one function that turns a key, a shot's name or a manifest path into a path
under a root, or refuses it with a sentence. Every file written from a name goes through `under`."""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

from backend.errors import ValidationError

MAX_NAME_BYTES = 1024  # S3's longest key
MAX_SEGMENT_BYTES = 255  # the longest file name most file systems take
# Characters that look like `/`, `\` or `.` without NFKC turning them into one (Unicode's confusables, less letters).
LOOKALIKES = frozenset(
    "\u2215\u2044\u29f8\u29f9\u29f5\u2216\u2571\u2572\u0337\u0338\u2afd\u2afb\u27cb\u27cd\u1735\u2041"
    "\u3002\uff61\u0589\u06d4\u0701\u0702\ua4f8\ua60e\u2e31\U00010a50\U0001d16d"
)
_DRIVE = re.compile(r"^[A-Za-z]:")
_REFUSED_CATEGORIES = ("C", "Zl", "Zp")  # control, format, surrogate, private, unassigned; line breaks
EXAMPLE = "projB/sh010/shot.blend"


class UnsafeName(ValidationError, ValueError):
    """A name that would not stay under the folder it is put in: the message says why and what would work."""


def check(name: object, what: str = "The name", example: str = EXAMPLE) -> str:
    """`name` unchanged if it is a relative path of plain segments joined by `/`; UnsafeName otherwise."""
    if not isinstance(name, str):
        raise UnsafeName(f"{what} must be text, not {type(name).__name__}: give a path such as `{example}`.")
    reason = _why_unsafe(name)
    if reason:
        raise UnsafeName(f"{what} `{_shown(name)}` {reason}: give a plain relative path such as `{example}`.")
    return name


def under(root: Path, name: object, what: str = "The name", example: str = EXAMPLE) -> Path:
    """The path `name` names inside `root`, or UnsafeName: nothing it returns lies outside `root`."""
    path = root.joinpath(*check(name, what, example).split("/"))
    base, full = os.path.realpath(root), os.path.realpath(path)
    if full == base or os.path.commonpath([base, full]) != base:  # a link inside root that leads out
        raise UnsafeName(
            f"{what} `{_shown(str(name))}` leads outside its folder: give a path such as `{example}`."
        )
    return path


def _why_unsafe(name: str) -> str:
    if not name:
        return "is empty"
    for char in name:
        category = unicodedata.category(char)
        if category.startswith(_REFUSED_CATEGORIES):
            return f"contains an invisible or control character (U+{ord(char):04X})"
        if char == "\\":
            return "contains a backslash (`\\`): folders are separated by `/`"
        if not char.isascii() and (
            char in LOOKALIKES or set("/\\.:") & set(unicodedata.normalize("NFKC", char))
        ):
            return f"contains `{char}` (U+{ord(char):04X}), which looks like `/`, `\\`, `.` or `:`"
    if len(name.encode()) > MAX_NAME_BYTES:
        return f"is longer than {MAX_NAME_BYTES} bytes"
    if name.startswith("/"):
        return "is absolute (it starts with `/`)"
    for segment in name.split("/"):
        if not segment:
            return "has an empty folder name (`//`, or `/` at the end)"
        if segment in (".", ".."):
            return f"may not contain `{segment}` as a folder"
        if _DRIVE.match(segment):
            return f"names a drive (`{segment[:2]}`)"
        if len(segment.encode()) > MAX_SEGMENT_BYTES:
            return f"has a name longer than {MAX_SEGMENT_BYTES} bytes"
    return ""


def _shown(name: str) -> str:
    """The name as a person may read it: invisible characters escaped, long ones cut."""
    visible = "".join(
        char if not unicodedata.category(char).startswith(_REFUSED_CATEGORIES) else f"\\u{ord(char):04x}"
        for char in name
    )
    return visible if len(visible) <= 80 else visible[:77] + "…"
