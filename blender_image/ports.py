"""What the render worker talks to: the renderer (Blender, or a stand-in in tests) and the scene cache."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from backend.render.tasks import RenderSettings, RenderTask
from backend.render.tiles import Cut


class Measurer(Protocol):
    """Renders a frame small and says how long it took and what share of its pixels that was (a probe's look)."""

    def measure(
        self,
        scene_path: Path,
        frame: int,
        settings: RenderSettings,
        scale: float,
        allow_missing: bool = False,
    ) -> tuple[float, float]: ...


class Renderer(Measurer, Protocol):
    """Renders a frame (or one tile of it) to a file: Blender, or a stand-in (`testing.renderer`) in tests."""

    def render(
        self,
        scene_path: Path,
        frame: int,
        settings: RenderSettings,
        out_stem: Path,
        allow_missing: bool = False,
        tile: int | None = None,
    ) -> Path: ...

    @property
    def cut(self) -> Cut | None: ...


class Scenes(Protocol):
    def scene_path(self, task: RenderTask) -> Path: ...
