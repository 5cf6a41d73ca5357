"""Stitch a frame's tiles into the frame with OpenImageIO: every channel of every part (all EXR layers and passes,
not only the beauty), pixel for pixel, each tile giving only its inner rectangle (its overscan is dropped)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import OpenImageIO as oiio

from backend.render.tiles import Cut, Tile

JPEG_QUALITY = 90  # Blender's default for JPEG frames


class StitchError(RuntimeError):
    """The tiles do not make a frame (a missing tile, a size that does not match the cut)."""


def stitch(cut: Cut, tiles: Sequence[Path], out: Path) -> Path:
    """Write the frame `out` from its tiles (in tile order), in the format its extension names; the tiles'
    channels, pixel type and metadata (the EXR's compression, Blender's stamp) carry over."""
    placed = cut.tiles()
    if len(tiles) != len(placed):
        raise StitchError(f"{len(tiles)} tiles for a {cut.grid[0]}×{cut.grid[1]} grid")
    inputs = [oiio.ImageInput.open(str(path)) for path in tiles]
    if any(image is None for image in inputs):
        raise StitchError(f"cannot read a tile: {oiio.geterror()}")
    try:
        parts = _parts(inputs[0])
        frames = []
        for part, spec in enumerate(parts):
            frame = oiio.ImageSpec(spec)
            frame.width, frame.height = cut.width, cut.height
            frame.full_width, frame.full_height = cut.width, cut.height
            frame.x = frame.y = frame.full_x = frame.full_y = 0
            frame.tile_width = frame.tile_height = 0
            buffer = oiio.ImageBuf(frame)
            for tile, image in zip(placed, inputs, strict=True):
                _paste(buffer, image, part, tile)
            frames.append(buffer)
    finally:
        for image in inputs:
            image.close()
    _write(frames, out)
    return out


def _parts(image: oiio.ImageInput) -> list[oiio.ImageSpec]:
    """The specs of every subimage (an EXR's parts); most files have one."""
    specs = []
    part = 0
    while image.seek_subimage(part, 0):
        specs.append(oiio.ImageSpec(image.spec()))
        part += 1
    return specs


def _paste(buffer: oiio.ImageBuf, image: oiio.ImageInput, part: int, tile: Tile) -> None:
    """Copy the tile's inner rectangle into the frame. A tile is either its window (cropped) or the whole frame
    with only its window rendered (8-bit tiles: Blender's dither pattern follows the pixel's place in the file)."""
    if not image.seek_subimage(part, 0):
        raise StitchError(f"a tile lacks part {part}")
    spec = image.spec()
    inner, window, frame = tile.inner, tile.window, buffer.spec()
    if (spec.width, spec.height) == (window.width, window.height):
        dx, dy = inner.x0 - window.x0, inner.y0 - window.y0
    elif (spec.width, spec.height) == (frame.width, frame.height):
        dx, dy = inner.x0, inner.y0
    else:
        raise StitchError(
            f"tile {tile.index + 1} is {spec.width}×{spec.height}, its window {window.width}×{window.height} "
            f"(rendered with other settings?)"
        )
    if spec.nchannels != buffer.spec().nchannels:
        raise StitchError("the tiles do not have the same channels")
    pixels = image.read_image(part, 0, 0, spec.nchannels, buffer.spec().format)
    if pixels is None:
        raise StitchError(f"cannot read a tile: {image.geterror()}")
    block = pixels[dy : dy + inner.height, dx : dx + inner.width]
    roi = oiio.ROI(inner.x0, inner.x1, inner.y0, inner.y1, 0, 1, 0, spec.nchannels)
    if not buffer.set_pixels(roi, block):
        raise StitchError(f"cannot place a tile: {buffer.geterror()}")


def _write(frames: list[oiio.ImageBuf], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() in (".jpg", ".jpeg"):
        frames[0].specmod().attribute("Compression", f"jpeg:{JPEG_QUALITY}")
    partial = out.with_name(f".{out.name}.part{out.suffix}")
    output = oiio.ImageOutput.create(str(out))
    if output is None:
        raise StitchError(f"cannot write {out.suffix} files: {oiio.geterror()}")
    specs = [frame.spec() for frame in frames]
    opened = output.open(str(partial), specs) if len(specs) > 1 else output.open(str(partial), specs[0])
    if not opened:
        raise StitchError(f"cannot write the frame: {output.geterror()}")
    try:
        for part, frame in enumerate(frames):
            if part and not output.open(str(partial), frame.spec(), "AppendSubimage"):
                raise StitchError(f"cannot write the frame: {output.geterror()}")
            if not frame.write(output):
                raise StitchError(f"cannot write the frame: {frame.geterror()}")
    finally:
        output.close()
    partial.replace(out)
