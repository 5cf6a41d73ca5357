"""Render a shot with this process's Blender through the worker's renderer and print what came out as one JSON line:
`python -m tests.shots.render_check SHOT OUT` (run with each Blender's Python by tests/functional/test_blender_versions.py).

Frame 1 whole as PNG, the same frame as 2×2 tiles stitched, and the frame as multilayer EXR (its channels).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import bpy
import numpy as np
import OpenImageIO as oiio
from PIL import Image

from backend.render.tasks import RenderSettings
from blender_image.blender import BlenderRenderer
from blender_image.stitch import stitch

BASE = {"resolution": (64, 36), "samples": 4, "engine": "CYCLES"}


def check(shot: Path, out: Path) -> dict[str, object]:
    """What the renderer wrote for `shot`: the PNG frame's colours, whether its tiles stitch to it, the EXR's layers."""
    renderer = BlenderRenderer()
    png = RenderSettings(**BASE, file_format="PNG")  # type: ignore[arg-type]
    whole = renderer.render(shot, 1, png, out / "whole" / "frame")
    tiled = RenderSettings(**BASE, file_format="PNG", tiles=(2, 2))  # type: ignore[arg-type]
    tiles = [renderer.render(shot, 1, tiled, out / "tiles" / "frame", tile=index) for index in range(4)]
    assert renderer.cut is not None
    stitched = stitch(renderer.cut, tiles, out / "stitched.png")
    exr = renderer.render(
        shot, 1, RenderSettings(**BASE, file_format="OPEN_EXR_MULTILAYER"), out / "exr" / "frame"
    )  # type: ignore[arg-type]
    with Image.open(whole) as a, Image.open(stitched) as b:
        same = a.size == b.size and a.tobytes() == b.tobytes()
        colours = len(a.convert("RGB").getcolors(maxcolors=1 << 16) or ())
        size = list(a.size)
    image = oiio.ImageBuf(str(exr))
    pixels = image.get_pixels(oiio.FLOAT)
    return {
        "bpy": bpy.app.version_string,
        "png": whole.name,
        "size": size,
        "colours": colours,
        "tiles_stitch_to_the_frame": same,
        "exr": exr.name,
        "exr_channels": list(image.spec().channelnames),
        "exr_lit": bool(np.asarray(pixels).max() > 0.01),
    }


if __name__ == "__main__":
    print(json.dumps(check(Path(sys.argv[1]), Path(sys.argv[2]))))
