"""An in-memory `NodeRoster`: which render nodes said they are there, and the gpu jobs waiting for one."""

from __future__ import annotations

import time
from collections.abc import Callable

from backend.render.store.roster import FRESH_S


class InMemoryRoster:
    """The same contract as `backend.render.store.roster.NodeRoster`, kept in dictionaries."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.nodes: dict[tuple[str, str], float] = {}  # (class, name) → when last heard from
        self.waiting: dict[str, float] = {}  # job id → when it was queued

    def seen(self, render_class: str, name: str) -> None:
        self.nodes[(render_class, name)] = self.clock()

    def left(self, render_class: str, name: str) -> None:
        self.nodes.pop((render_class, name), None)

    def present(self, render_class: str) -> list[str]:
        fresh_since = self.clock() - FRESH_S
        return sorted(
            name for (cls, name), at in self.nodes.items() if cls == render_class and at >= fresh_since
        )

    def watch(self, job_id: str) -> None:
        self.waiting[job_id] = self.clock()

    def waiting_before(self, cutoff: float) -> list[tuple[str, float]]:
        return [(job_id, at) for job_id, at in self.waiting.items() if at < cutoff]

    def unwatch(self, job_id: str) -> None:
        self.waiting.pop(job_id, None)
