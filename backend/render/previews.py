"""Pictures that summarise a render: a frame's small 8-bit proxy, a contact sheet, a GIF (Pillow)."""

from __future__ import annotations

import math
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

from PIL import Image, ImageDraw

T = TypeVar("T")

PICTURES = (".png", ".jpg", ".jpeg")  # what Pillow reads as a frame (EXR is not: its proxy stands in for it)
PROXY_SUFFIX = (
    ".proxy.png"  # beside a rendered frame: the picture the renderer made of it through its view transform
)
PROXY_WIDTH = 640


def proxy_path(frame: Path) -> Path:
    """Where a frame's proxy lies beside it while the worker handles the frame."""
    return frame.with_name(frame.stem + PROXY_SUFFIX)


def proxy(frame: Path, width: int = PROXY_WIDTH) -> Path | None:
    """The frame's small 8-bit PNG, at most `width` wide: the renderer's proxy beside it, else made from the frame
    when it is a picture; None for a format nothing here can read."""
    made = proxy_path(frame)
    source = made if made.exists() else frame if frame.suffix.lower() in PICTURES else None
    if source is None:
        return None
    with Image.open(source) as image:
        if (
            source != made
            and image.format == "PNG"
            and image.width <= width
            and image.mode in ("RGB", "RGBA")
        ):
            shutil.copyfile(source, made)  # small enough already: no decoding and encoding again
            return made
        small = image.convert("RGB")
        if small.width > width:
            small = small.resize(
                (width, max(1, round(small.height * width / small.width))), Image.Resampling.LANCZOS
            )
        small.save(made, "PNG")
    return made


def contact_sheet(frames: Sequence[Path], out: Path, columns: int = 6, thumb_width: int = 240) -> Path:
    """Lay frames out in a grid, each labelled with its file name's frame number; write a PNG to `out`."""
    if not frames:
        raise ValueError("no frames to put on a contact sheet")
    with Image.open(frames[0]) as first:
        aspect = first.height / first.width
    thumb_height = max(1, round(thumb_width * aspect))
    label_height = 18
    columns = min(columns, len(frames))
    rows = math.ceil(len(frames) / columns)
    gap = 4
    sheet = Image.new(
        "RGB",
        (columns * (thumb_width + gap) + gap, rows * (thumb_height + label_height + gap) + gap),
        (24, 24, 28),
    )
    draw = ImageDraw.Draw(sheet)
    for index, path in enumerate(frames):
        with Image.open(path) as image:
            thumb = image.convert("RGB").resize((thumb_width, thumb_height), Image.Resampling.LANCZOS)
        x = gap + (index % columns) * (thumb_width + gap)
        y = gap + (index // columns) * (thumb_height + label_height + gap)
        sheet.paste(thumb, (x, y))
        draw.text((x + 2, y + thumb_height + 3), path.stem.rsplit("_", 1)[-1], fill=(220, 220, 220))
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, "PNG")
    return out


def animated_preview(frames: Sequence[Path], out: Path, width: int = 480, fps: int = 12) -> Path:
    """A looping GIF of the frames at `width` pixels wide and `fps` frames per second."""
    if not frames:
        raise ValueError("no frames to animate")
    pictures = []
    for path in frames:
        with Image.open(path) as image:
            height = max(1, round(image.height * width / image.width))
            pictures.append(image.convert("RGB").resize((width, height), Image.Resampling.LANCZOS))
    out.parent.mkdir(parents=True, exist_ok=True)
    pictures[0].save(
        out,
        "GIF",
        save_all=True,
        append_images=pictures[1:],
        duration=round(1000 / fps),
        loop=0,
        optimize=True,
    )
    return out


def evenly(items: Sequence[T], most: int) -> list[T]:
    """At most `most` items spread evenly from first to last (all of them when there are few)."""
    if len(items) <= most:
        return list(items)
    step = (len(items) - 1) / (most - 1)
    return [items[round(index * step)] for index in range(most)]
