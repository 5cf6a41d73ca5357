"""What the scene open in Blender lacks, asked of Blender itself: libraries it could not load, every file a data-block
keeps (each tile a UDIM image lists), and the sequence files a frame reads through each image user."""

from __future__ import annotations

import os
from collections.abc import Iterator

import bpy

from backend.render.image_sets import UDIM, ImageUser, numbered, spans
from backend.render.manifest import OUTSIDE
from blender_image.compat import for_version

# What a frame may read from disk, by the type of the data-block using it, and what a person calls it. A modifier's
# cache folder on an object is left out: Blender writes it when baking, and one never baked is not needed.
_CHECKED = {
    "Image": "image",
    "Sound": "sound",
    "VectorFont": "font",
    "MovieClip": "movie clip",
    "CacheFile": "cache",
    "Volume": "volume",
    "Scene": "sequencer strip in scene",
}

Reader = tuple[bpy.types.Image, ImageUser]


def missing_files() -> list[str]:
    """What the open scene uses and Blender cannot find: libraries it could not load, and every file path a
    data-block keeps (packed data skipped), resolved against the .blend that holds it; a UDIM image by each tile
    it lists. A sequence read through image users is checked frame by frame (`sequence_gaps`)."""
    missing = [
        f"library `{library.name}` (`{library.filepath}`)"
        for library in bpy.data.libraries
        if library.is_missing
    ]
    read = {image.name_full for image, user in sequence_readers() if user.duration > 0}

    def visit(block: bpy.types.ID, path: str, _meta: object) -> None:
        kind = _CHECKED.get(type(block).__name__)
        if kind is None or path.startswith("<"):  # `<builtin>` fonts
            return
        what = f"{kind} `{block.name}`" + (f" of library `{block.library.name}`" if block.library else "")
        full = bpy.path.abspath(path, library=block.library)
        if isinstance(block, bpy.types.Image):
            if block.source not in ("FILE", "SEQUENCE", "TILED", "MOVIE") or block.name_full in read:
                return
            if block.source == "TILED" or UDIM in path:
                lacking = [
                    tile.number
                    for tile in block.tiles
                    if not os.path.exists(full.replace(UDIM, str(tile.number)))
                ]
                if lacking:
                    tiles = "tile" if len(lacking) == 1 else "tiles"
                    missing.append(f"{what} (`{as_artist(path)}`: {tiles} {spans(lacking)})")
                return
        if not os.path.exists(full):
            missing.append(f"{what} (`{as_artist(path)}`)")

    for_version(bpy.app.version).foreach_path(bpy.data, visit)
    return missing


def as_artist(path: str) -> str:
    """A path laid out here from outside the shot folder (`…/cache/sh010/_outside/mnt/lib/a.blend`), by the path
    the artist has it at (`/mnt/lib/a.blend`); any other path as it is written."""
    _head, found, tail = path.partition(f"/{OUTSIDE}/")
    return "/" + tail if found else path


def sequence_readers() -> list[Reader]:
    """Every image sequence of the open file and each user that reads it (a texture node, an image texture)."""
    return [(image, user) for image, user in _readers() if image.source == "SEQUENCE"]


def sequence_gaps(readers: list[Reader], frame: int) -> list[str]:
    """The sequence files frame `frame` reads that are not there."""
    gaps = []
    for image, user in readers:
        number = user.reads(frame)
        if user.duration <= 0:
            continue
        full = numbered(bpy.path.abspath(image.filepath, library=image.library), number)
        if not os.path.exists(full):
            written = numbered(image.filepath, number)
            gaps.append(f"image `{image.name}` reads `{written}` at frame {frame}, and it is not there")
    return list(dict.fromkeys(gaps))


def _readers() -> Iterator[tuple[bpy.types.Image, ImageUser]]:
    trees = [tree for tree in bpy.data.node_groups]
    for owners in (bpy.data.materials, bpy.data.worlds, bpy.data.lights, bpy.data.textures):
        trees += [owner.node_tree for owner in owners if getattr(owner, "node_tree", None) is not None]
    for tree in trees:
        for node in tree.nodes:
            image, user = getattr(node, "image", None), getattr(node, "image_user", None)
            if image is not None and user is not None:
                yield image, _user(user)
    for texture in bpy.data.textures:
        if getattr(texture, "image", None) is not None:
            yield texture.image, _user(texture.image_user)


def _user(user: bpy.types.ImageUser) -> ImageUser:
    return ImageUser(user.frame_start, user.frame_duration, user.frame_offset, user.use_cyclic)
