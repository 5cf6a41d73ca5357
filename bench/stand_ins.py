"""Stand-ins the fault benchmarks share: a renderer that writes a small PNG per frame (and can die), and the death."""

from __future__ import annotations

import threading
from pathlib import Path

from PIL import Image

from backend.render.tasks import RenderSettings
from backend.render.tiles import Cut


class Killed(BaseException):
    """The worker dies here: nothing after this line runs, its message is not deleted."""


class Frames:
    """A renderer that writes a small PNG per frame, and dies after writing when told to."""

    def __init__(self) -> None:
        self.die_after: set[int] = set()
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
        path = out_stem.parent / f"{out_stem.name}_{frame:04d}_{threading.get_ident()}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (32, 18), (frame * 5 % 256, 80, 160)).save(path)
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

    @property
    def cut(self) -> Cut | None:
        return None  # no tiles in this benchmark
