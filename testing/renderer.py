"""A stand-in for Blender (Pillow writes a real picture per frame), and what workers leave behind, for the tests
and the benchmarks alike."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from io import BytesIO
from pathlib import Path
from typing import Any, Protocol

from PIL import Image

from backend.render.tasks import RenderSettings
from backend.render.tiles import OVERSCAN_PX, Cut


class Killed(BaseException):
    """The worker dies here: nothing after this line runs, its message is not deleted."""


class PillowRenderer:
    """A stand-in for Blender that writes a real picture per frame (or the window of one tile of it, so stitched
    tiles make the very same picture). It can be told to fail frames (`fail_frames`: Blender's error, nothing
    written) or to die once after writing one (`die_after`: the process ends, `Killed`). Its small looks take no
    time. Safe to share between worker threads."""

    def __init__(self, fail_frames: set[int] | None = None) -> None:
        self.fail_frames = fail_frames or set()
        self.die_after: set[int] = set()
        self.rendered: list[int] = []
        self.tiles: list[tuple[int, int]] = []
        self.cut: Cut | None = None
        self.lock = threading.Lock()

    def render(
        self,
        scene_path: Path,
        frame: int,
        settings: RenderSettings,
        out_stem: Path,
        allow_missing: bool = False,
        tile: int | None = None,
    ) -> Path:
        if frame in self.fail_frames:
            raise RuntimeError(f"Blender could not render frame {frame}: missing texture wood.png")
        picture = frame_picture(frame, settings.resolution or (32, 18))
        path = Path(f"{out_stem}_{frame:04d}{settings.extension or '.png'}")  # the scene renders PNG
        path.parent.mkdir(parents=True, exist_ok=True)
        if tile is not None and settings.tiles:
            self.cut = Cut(picture.width, picture.height, settings.tiles, OVERSCAN_PX)
            window = self.cut.tiles()[tile].window
            picture = picture.crop((window.x0, window.y0, window.x1, window.y1))
            path = path.with_name(f"{path.stem}_t{tile:02d}{path.suffix}")
            self.tiles.append((frame, tile))
        else:
            self.rendered.append(frame)
        picture.save(path, "PNG")
        with self.lock:
            dies = frame in self.die_after
            self.die_after.discard(frame)
        if dies:
            raise Killed
        return path

    def measure(
        self,
        scene_path: Path,
        frame: int,
        settings: RenderSettings,
        scale: float,
        allow_missing: bool = False,
    ) -> tuple[float, float]:
        return 0.0, scale * scale  # the probes' small look: instant here


def frame_picture(frame: int, size: tuple[int, int]) -> Image.Image:
    """What the stand-in renders for a frame: a colour per frame, a gradient across it (so a misplaced tile shows)."""
    width, height = size
    picture = Image.new("RGB", size)
    picture.putdata(
        [
            (frame * 10 % 255, x * 255 // max(1, width - 1), y * 255 // max(1, height - 1))
            for y in range(height)
            for x in range(width)
        ]
    )
    return picture


class FrameRecords(Protocol):
    """Where a worker records a frame's outcome (`backend.render.progress.JobReporter`)."""

    def frame_done(self, job_id: str, frame: int, seconds: float, output_key: str) -> Any: ...
    def frame_failed(self, job_id: str, frame: int, error: str) -> Any: ...


def leave_frames(
    s3: Any,
    bucket: str,
    records: FrameRecords,
    job_id: str,
    frames: Sequence[int],
    failed: Sequence[int] = (),
) -> None:
    """What workers leave behind: each frame's picture and its proxy in the outputs bucket, the frame counted;
    `failed` frames recorded failed."""
    for frame in frames:
        picture = BytesIO()
        Image.new("RGB", (32, 18), (frame * 40 % 255, 90, 160)).save(picture, "PNG")
        key = f"outputs/{job_id}/shot_{frame:04d}.png"
        proxy = f"outputs/{job_id}/proxies/shot_{frame:04d}.png"  # as the worker writes one for every frame
        for written in (key, proxy):
            s3.put_object(Bucket=bucket, Key=written, Body=picture.getvalue())
        records.frame_done(job_id, frame, 0.5, key)
    for frame in failed:
        records.frame_failed(job_id, frame, "RuntimeError: texture wood.png is missing")
