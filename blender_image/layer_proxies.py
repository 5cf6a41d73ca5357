"""One 8-bit proxy per view layer of a multilayer EXR frame, through the scene's view transform (OpenImageIO and
Blender's own OpenColorIO config): what the contact sheet's rows show when the scene composites nothing.

Blender's Render Result saves only its first layer (or the composite), so the layers are read back from the EXR it
wrote: each layer's `Combined` pass, exposure applied in scene linear, the display's view and look, then gamma, as
Blender's view transform does (its curve mapping, rarely used on a farm, is not applied)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import OpenImageIO as oiio

from backend.render.layer_previews import layer_folder, layer_segment
from backend.render.previews import PROXY_WIDTH

RGBA = ("R", "G", "B", "A")


@dataclass(frozen=True)
class ViewTransform:
    """The scene's colour management, as the proxies apply it."""

    config: str  # Blender's OpenColorIO config file
    display: str = "sRGB"
    view: str = "Standard"
    look: str = ""  # "" for none
    exposure: float = 0.0
    gamma: float = 1.0


def save_layer_proxies(
    frame: Path, layers: Sequence[str], transform: ViewTransform, width: int = PROXY_WIDTH
) -> list[Path]:
    """Write `<stem>.layers/<NN-name>.png` beside the multilayer EXR `frame` for each of `layers` (the scene's used
    view layers, in order) it holds a `Combined` pass of; the files written."""
    found = _combined_passes(frame)
    folder = layer_folder(frame)
    folder.mkdir(exist_ok=True)
    written = []
    for index, name in enumerate(layers, start=1):
        if name not in found:
            continue
        part, channels = found[name]
        picture = _shown(oiio.ImageBuf(str(frame), part, 0), channels, transform, width)
        path = folder / f"{layer_segment(index, name)}.png"
        if not picture.write(str(path), "uint8"):
            raise RuntimeError(f"cannot write the proxy of view layer `{name}`: {picture.geterror()}")
        written.append(path)
    return written


def _combined_passes(frame: Path) -> dict[str, tuple[int, tuple[int, ...]]]:
    """Each view layer's `Combined` pass in the EXR: its part and its R, G, B (and A) channels' indices."""
    source = oiio.ImageInput.open(str(frame))
    if source is None:
        raise RuntimeError(f"cannot read {frame.name}: {oiio.geterror()}")
    found: dict[str, tuple[int, tuple[int, ...]]] = {}
    try:
        part = 0
        while source.seek_subimage(part, 0):
            names = list(source.spec().channelnames)
            for index, channel in enumerate(names):
                if channel.endswith(".Combined.R"):
                    layer = channel.removesuffix(".Combined.R")
                    wanted = [f"{layer}.Combined.{c}" for c in RGBA]
                    present = tuple(names.index(name) for name in wanted if name in names)
                    if len(present) >= 3 and present[0] == index:
                        found.setdefault(layer, (part, present))
            part += 1
    finally:
        source.close()
    return found


def _shown(
    buffer: oiio.ImageBuf, channels: tuple[int, ...], transform: ViewTransform, width: int
) -> oiio.ImageBuf:
    """The pass as the artist sees it in Blender: exposure, view and look, gamma; RGB, at most `width` wide."""
    picture = oiio.ImageBufAlgo.channels(buffer, channels)
    if transform.exposure:
        scale = 2.0**transform.exposure
        picture = oiio.ImageBufAlgo.mul(picture, (scale, scale, scale, 1.0)[: len(channels)])
    picture = oiio.ImageBufAlgo.ociodisplay(
        picture,
        transform.display,
        transform.view,
        fromspace="scene_linear",
        looks=transform.look,
        unpremult=len(channels) == 4,
        colorconfig=transform.config,
    )
    if picture.has_error:
        raise RuntimeError(f"the view transform failed: {picture.geterror()}")
    if transform.gamma != 1.0:
        power = 1.0 / transform.gamma
        picture = oiio.ImageBufAlgo.pow(picture, (power, power, power, 1.0)[: len(channels)])
    picture = oiio.ImageBufAlgo.channels(picture, (0, 1, 2))
    spec = picture.spec()
    if spec.width > width:
        height = max(1, round(spec.height * width / spec.width))
        picture = oiio.ImageBufAlgo.resize(picture, roi=oiio.ROI(0, width, 0, height, 0, 1, 0, 3))
    if picture.has_error:
        raise RuntimeError(picture.geterror())
    return picture
