"""UDIM sets and image sequences as a .blend lists them, read with Blender Asset Tracer's DNA reader (no bpy): an
image's tiles (`Image.tiles`, each `ImageTile.tile_number`) and the image users that read a sequence (each texture
node's `ImageUser`: start, duration, offset, cyclic). BAT itself expands a UDIM set from the files that happen to be
there, so the tiles the render reads come from here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backend.render.image_sets import UDIM, ImageSet, ImageUser

IMA_SRC_SEQUENCE, IMA_SRC_TILED = 2, 6
# Where an image user lives: a node's storage (`NodeTexImage`, `NodeTexEnvironment` hold one as `iuser`; the
# compositor's image node's storage is one), and a legacy texture (`Tex.iuser`).
_STORAGE_USER = {"NodeTexImage": (b"iuser",), "NodeTexEnvironment": (b"iuser",), "ImageUser": ()}


def image_users(bfile: Any) -> dict[int, list[ImageUser]]:
    """Every image user of the file, by the address of the image it reads."""
    found: dict[int, list[ImageUser]] = {}
    for block in bfile.blocks:
        kind = block.dna_type_name
        if kind == "bNode":
            image, storage = block.get_pointer(b"id"), block.get_pointer(b"storage")
            if image is None or storage is None or storage.dna_type_name not in _STORAGE_USER:
                continue
            prefix = _STORAGE_USER[storage.dna_type_name]
            found.setdefault(image.addr_old, []).append(_user(storage, prefix))
        elif kind == "Tex":
            image = block.get_pointer(b"ima")
            if image is not None:
                found.setdefault(image.addr_old, []).append(_user(block, (b"iuser",)))
    return found


def _user(block: Any, prefix: tuple[bytes, ...]) -> ImageUser:
    def field(name: bytes) -> int:
        return int(block.get((*prefix, name)) if prefix else block.get(name))

    return ImageUser(field(b"sfra"), field(b"frames"), field(b"offset"), bool(field(b"cycl")))


def image_set(
    block: Any, users: dict[int, list[ImageUser]], written: str, used_by: str, referrer: str, path: str
) -> ImageSet | None:
    """The UDIM set or sequence an image block reads, or None for a single file."""
    source = block.get(b"source", default=1)
    if source == IMA_SRC_TILED or UDIM in written:
        from blender_asset_tracer.blendfile import iterators

        tiles = tuple(
            int(tile.get(b"tile_number"))
            for tile in iterators.listbase(block.get_pointer((b"tiles", b"first")))
        )
        return ImageSet(written, used_by, referrer, path, tiles=tiles or (1001,))
    if source == IMA_SRC_SEQUENCE:
        readers = tuple(dict.fromkeys(users.get(block.addr_old, ())))  # many nodes read a plate the same way
        return ImageSet(written, used_by, referrer, path, users=readers)
    return None


def tile_gap(image: ImageSet, on_disk: Path) -> str:
    """What a UDIM set lacks on the artist's disk (`on_disk` is its template resolved): '' when every tile is
    there."""
    lacking = [tile for tile in image.tiles if not Path(image.file(tile, str(on_disk))).exists()]
    return image.gap_text(lacking, ()) if lacking else ""
