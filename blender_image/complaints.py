"""The last line of defence: what Blender prints when a frame reads a file that is not there (a texture, a tile, a
plate frame, a library). It says so only on its output, never to Python, and renders magenta or leaves objects out:
a frame whose output says so is failed with that line, never recorded as rendered."""

from __future__ import annotations

from collections.abc import Iterable

# As Blender 5.0 prints them: Cycles' `ERROR Image file '…/plate.0003.png' does not exist.`, the viewport engines'
# `ERROR Failed to create GPU texture from Blender image`, a library's `Cannot find lib '…'`.
SIGNS = ("does not exist", "Failed to create GPU texture from Blender image", "Cannot find lib")


def complaints(lines: Iterable[str]) -> list[str]:
    """The lines of Blender's output that say a file the frame reads is not there, each once, in order."""
    found = [line.strip() for line in lines if any(sign in line for sign in SIGNS)]
    return list(dict.fromkeys(found))
