"""What the render worker talks to: the renderer (Blender, or a stand-in in tests) and the scene cache."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from backend.render.tasks import RenderSettings, RenderTask
from backend.render.tiles import Cut


class Renderer(Protocol):
    def render(
        self,
        scene_path: Path,
        frame: int,
        settings: RenderSettings,
        out_stem: Path,
        allow_missing: bool = False,
        tile: int | None = None,
    ) -> Path: ...
    def measure(
        self,
        scene_path: Path,
        frame: int,
        settings: RenderSettings,
        scale: float,
        allow_missing: bool = False,
    ) -> tuple[float, float]: ...

    @property
    def cut(self) -> Cut | None: ...


class Scenes(Protocol):
    def scene_path(self, task: RenderTask) -> Path: ...
