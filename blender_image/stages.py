"""Where a frame's time went in the worker, by stage: wall and CPU seconds, logged with the frame."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class Stages:
    """The frame in hand's stages (a task's own reads go with its first frame); `fields()` gives them for the log.

    Timed apart from the worker's `clock` (billing). CPU is the whole process's, so a stage that waits on AWS
    shows its own client work, not the server's, and the render stage shows Blender's threads."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._begun: dict[str, tuple[float, float]] = {}

    def begin(self, name: str) -> None:
        """Stage `name` starts now."""
        self._begun[name] = time.perf_counter(), time.process_time()

    def end(self, name: str) -> None:
        """Stage `name` (begun) ends now; its time is added to what the stage already has."""
        wall, cpu = self._begun.pop(name)
        self.wall[name] = self.wall.get(name, 0.0) + time.perf_counter() - wall
        self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - cpu

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        """Time the block as stage `name`."""
        self.begin(name)
        try:
            yield
        finally:
            self.end(name)

    def less(self, name: str, inner: str) -> None:
        """Take stage `inner`'s time out of `name` (timed around it)."""
        for spent in (self.wall, self.cpu):
            spent[name] = spent.get(name, 0.0) - spent.get(inner, 0.0)

    def fields(self) -> dict[str, Any]:
        """Milliseconds by stage, wall and CPU, as the frame's log line carries them."""
        return {
            "stages_ms": {name: round(spent * 1000, 1) for name, spent in self.wall.items()},
            "stages_cpu_ms": {name: round(spent * 1000, 1) for name, spent in self.cpu.items()},
        }
