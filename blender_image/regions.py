"""One tile's window of a frame, as Blender renders it: Cycles' border, cropped or not, put back after (no bpy import:
the scene is handed in by `blender_image.blender`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from backend.render.tasks import RenderSettings
from backend.render.tiles import DENOISE_OVERSCAN_PX, OVERSCAN_PX, Cut
from blender_image.compat import compositor_denoises


@contextmanager
def region(scene: Any, settings: RenderSettings, tile: int | None) -> Iterator[Cut | None]:
    """Render only one tile's window (Cycles' border, cropped), and put the scene's own border back after; a
    JPEG job's tiles are PNG (lossless until the stitched frame is encoded once)."""
    if tile is None or settings.tiles is None:
        yield None
        return
    render = scene.render
    kept = (
        render.use_border,
        render.use_crop_to_border,
        (render.border_min_x, render.border_max_x, render.border_min_y, render.border_max_y),
        render.image_settings.file_format,
    )
    percent = render.resolution_percentage  # Blender truncates: 1279 px at 50 % is 639
    width, height = render.resolution_x * percent // 100, render.resolution_y * percent // 100
    suffix = ".jpg" if render.image_settings.file_format == "JPEG" else ""  # else the tile's own
    cut = Cut(width, height, settings.tiles, overscan_of(scene), suffix)
    # 8-bit tiles keep the frame's size (the rest empty, a few bytes compressed): Blender dithers by a pixel's
    # place in the file, so only then is the stitched frame the whole one to the bit. Float tiles are cropped.
    render.use_border = True
    render.use_crop_to_border = render.image_settings.color_depth not in ("", "8") or (
        render.image_settings.file_format not in ("PNG", "JPEG")
    )
    borders = cut.tiles()[tile].border(width, height)
    render.border_min_x, render.border_max_x, render.border_min_y, render.border_max_y = borders
    if render.image_settings.file_format == "JPEG":
        render.image_settings.file_format = "PNG"
    try:
        yield cut
    finally:
        render.use_border, render.use_crop_to_border = kept[0], kept[1]
        render.border_min_x, render.border_max_x, render.border_min_y, render.border_max_y = kept[2]
        render.image_settings.file_format = kept[3]


def overscan_of(scene: Any) -> int:
    """Past each inner edge: wide enough for the denoiser's footprint when the frame is denoised, by Cycles or by a
    Denoise node in the compositor (without it, a denoised tile's edge shows as a seam)."""
    by_cycles = (
        scene.render.engine == "CYCLES"
        and scene.cycles.use_denoising
        and any(layer.use and layer.cycles.use_denoising for layer in scene.view_layers)
    )
    return DENOISE_OVERSCAN_PX if by_cycles or compositor_denoises(scene) else OVERSCAN_PX
