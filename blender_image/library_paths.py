"""A linked library's own paths made to resolve on the farm: after the scene opens, each library's paths to files
outside the shot (a studio mount's absolute paths, `//../..` out of the shot folder) are pointed at where the shot
laid those files out.

Remapped after loading rather than rewritten in a shipped copy of the library (as BAT's packer does): the library
travels byte for byte as the artist saved it, so it is stored once by content and shared by every shot that links
it, nothing has to write .blend files (zstd ones included) on an artist's machine at upload, and the scene's own
paths are already remapped the same way here. Blender lets `file_path_foreach` set a linked data-block's path for
the session (not saved), which is all a render needs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import bpy

from blender_image.compat import for_version


def remap_libraries(remaps_file: Path) -> None:
    """Point each linked data-block's path that its library's remaps name at where the file lies here."""
    if not remaps_file.exists():
        return
    remaps = {
        os.path.realpath(library): paths for library, paths in json.loads(remaps_file.read_text()).items()
    }
    if not remaps:
        return
    moved: list[bpy.types.Image] = []

    def visit(block: bpy.types.ID, path: str, _meta: object) -> str | None:
        library = block.library
        if library is None:
            return None
        where = os.path.realpath(bpy.path.abspath(library.filepath, library=library.parent))
        new = remaps.get(where, {}).get(path)
        if new is not None and isinstance(block, bpy.types.Image):
            moved.append(block)
        return new  # type: ignore[no-any-return]

    for_version(bpy.app.version).foreach_path(bpy.data, visit)
    for image in moved:
        image.reload()  # an image Blender tried to load from the old path loads from the new one
