"""A frame's glue in the worker, the time around its render: the task's look at its job and its frames in one read,
the round trips that need not wait for each other made side by side (a frame's uploads), and where each stage's time
went (`Stages`: wall and CPU seconds, logged with the frame). Each side-by-side call still fails as it would alone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from backend.render.layer_previews import Uploader, upload_layer_proxies
from backend.render.ports import JobStore
from backend.render.records import Job
from backend.render.tasks import RenderTask

CONTENT_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".exr": "image/x-exr"}

_beside = ThreadPoolExecutor(max_workers=2, thread_name_prefix="delivery")  # boto3's clients are thread-safe


def job_and_recorded(jobs: JobStore, task: RenderTask) -> tuple[Job, set[int]]:
    """The task's job and which of its frames are recorded already, in one read."""
    job, records = jobs.job_and_frames(task.job_id, task.frames)
    return job, {record.frame for record in records}


def upload_frame(
    uploader: Uploader, task: RenderTask, frame: int, written: Path, small: Path | None, layers: bool
) -> str:
    """Upload a frame, its proxy and (`layers`: several view layers) each layer's proxy, side by side; the frame's
    key. The local files are removed once sent."""
    key = task.output_key(frame, written.suffix)
    sent: list[Future[object]] = []
    if small is not None:  # the contact sheet, the GIF and the CLI read these, never the full frames
        sent.append(
            _beside.submit(uploader.upload, small, task.output_bucket, task.proxy_key(frame), "image/png")
        )
    if layers:  # a contact-sheet row each
        sent.append(
            _beside.submit(upload_layer_proxies, uploader, task.output_bucket, task.proxy_key(frame), written)
        )
    try:
        uploader.upload(written, task.output_bucket, key, CONTENT_TYPES.get(written.suffix))
    finally:
        for future in sent:
            future.result()
    written.unlink(missing_ok=True)
    if small is not None:
        small.unlink(missing_ok=True)
    return key


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
