"""Previews of a multilayer frame whose scene composites nothing: one 8-bit proxy per view layer, kept beside the
frame's own proxy, and the contact sheet that shows a row for each layer, labelled with its name (Pillow).

A layer's proxy lies at `proxies/layers/<NN-name>/<stem>_0001.png` under the job's outputs: `NN` is the layer's
place in the scene (rows keep the artist's order) and `name` its name percent-encoded, so that any name Blender
takes (`/`, `..`, spaces, accents) is one plain key segment; it is decoded only to be drawn as the row's label.
"""

from __future__ import annotations

import shutil
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, unquote

from PIL import Image, ImageDraw

from backend.names import check, under
from backend.render.previews import evenly

LAYERS = "layers/"  # under a job's proxies: one folder per view layer
FOLDER_SUFFIX = (
    ".layers"  # beside a rendered frame while the worker handles it: `<stem>.layers/<NN-name>.png`
)
LABEL_HEIGHT = 18  # a row's label band above its pictures, and each picture's frame number below it
GAP = 4
BACKGROUND = (24, 24, 28)
INK = (220, 220, 220)


class Uploader(Protocol):
    def upload(self, path: Path, bucket: str, key: str, content_type: str | None = None) -> None: ...


class Downloader(Protocol):
    def download(self, bucket: str, key: str, path: Path, etag: str | None = None) -> None: ...


def layer_segment(index: int, name: str) -> str:
    """The key segment of the `index`th view layer (from 1) named `name`: `01-Fore%2Fground`."""
    return check(f"{index:02d}-{quote(name, safe='')}", "A view layer's name", "01-ViewLayer")


def layer_label(segment: str) -> str:
    """The view layer's name, as the artist wrote it, from its key segment."""
    return unquote(segment.split("-", 1)[-1])


def layer_folder(frame: Path) -> Path:
    """Where the renderer leaves a frame's per-layer proxies for the worker to upload."""
    return frame.with_name(frame.stem + FOLDER_SUFFIX)


def upload_layer_proxies(uploader: Uploader, bucket: str, proxy_key: str, frame: Path) -> list[str]:
    """Upload the per-layer proxies the renderer left beside `frame` next to the frame's proxy (`proxy_key`), and
    remove them here; the keys written (none for a frame with one layer, a composite, or tiles)."""
    folder = layer_folder(frame)
    if not folder.is_dir():
        return []
    proxies, name = proxy_key.rsplit("/", 1)
    keys = []
    for picture in sorted(folder.glob("*.png")):
        key = f"{proxies}/{LAYERS}{check(picture.stem, 'A view layer proxy', '01-ViewLayer')}/{name}"
        uploader.upload(picture, bucket, key, "image/png")
        keys.append(key)
    shutil.rmtree(folder, ignore_errors=True)
    return keys


def is_layer_proxy(key: str, proxies_prefix: str) -> bool:
    """Whether `key` is a view layer's proxy (not the frame's own) under a job's `proxies/` prefix."""
    return key.startswith(proxies_prefix + LAYERS)


def layer_rows(keys: Iterable[str], proxies_prefix: str) -> list[tuple[str, list[str]]]:
    """The per-layer proxies among `keys`, grouped by layer in the scene's order: (segment, keys by frame)."""
    rows: dict[str, list[str]] = {}
    start = len(proxies_prefix + LAYERS)
    for key in keys:
        if is_layer_proxy(key, proxies_prefix) and key.count("/", start) == 1:
            rows.setdefault(key[start:].split("/", 1)[0], []).append(key)
    return [(segment, sorted(rows[segment])) for segment in sorted(rows)]


def layered_sheet(
    store: Downloader,
    bucket: str,
    rows: Sequence[tuple[str, Sequence[str]]],
    scratch: Path,
    out: Path,
    per_row: int = 6,
    thumb_width: int = 240,
) -> Path:
    """Download at most `per_row` proxies of each layer (spread over the job) into `scratch` and lay them out one
    row per layer, each row under its layer's name; write a PNG to `out`. One picture is open at a time."""
    if not rows:
        raise ValueError("no view layers to put on a contact sheet")
    chosen = [
        (segment, [_fetch(store, bucket, key, scratch, segment) for key in evenly(keys, per_row)])
        for segment, keys in rows
    ]
    with Image.open(chosen[0][1][0]) as first:
        thumb_height = max(1, round(thumb_width * first.height / first.width))
    columns = max(len(pictures) for _, pictures in chosen)
    row_height = LABEL_HEIGHT + thumb_height + LABEL_HEIGHT + GAP
    size = (columns * (thumb_width + GAP) + GAP, len(chosen) * row_height + GAP)
    sheet = Image.new("RGB", size, BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    for row, (segment, pictures) in enumerate(chosen):
        top = GAP + row * row_height
        draw.text((GAP + 2, top + 3), _drawable(layer_label(segment)), fill=INK)
        for column, path in enumerate(pictures):
            with Image.open(path) as image:
                thumb = image.convert("RGB").resize((thumb_width, thumb_height), Image.Resampling.LANCZOS)
            x = GAP + column * (thumb_width + GAP)
            sheet.paste(thumb, (x, top + LABEL_HEIGHT))
            number = path.stem.rsplit("_", 1)[-1]
            draw.text((x + 2, top + LABEL_HEIGHT + thumb_height + 3), number, fill=INK)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, "PNG")
    return out


def _drawable(label: str) -> str:
    """The label without accents (`é` → `e`): Pillow's built-in font has Latin letters only, and a box for the
    rest."""
    return "".join(char for char in unicodedata.normalize("NFKD", label) if not unicodedata.combining(char))


def _fetch(store: Downloader, bucket: str, key: str, scratch: Path, segment: str) -> Path:
    path = under(
        scratch, f"{segment}/{key.rsplit('/', 1)[-1]}", "A view layer proxy", "01-ViewLayer/shot_0001.png"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    store.download(bucket, key, path)
    return path
