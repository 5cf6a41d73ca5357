"""A frame's glue in the worker, the time around its render: the task's look at its job and its frames in one read,
the round trips that need not wait for each other made side by side (a frame's uploads), a frame's delivery made
behind the next frame's render (`Courier`), and where each stage's time went (`Stages`: wall and CPU seconds, logged
with the frame). Each side-by-side call still fails as it would alone."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend.render.job_life import JobLifecycle
from backend.render.layer_previews import Uploader, upload_layer_proxies
from backend.render.ports import JobStore
from backend.render.records import Job
from backend.render.tasks import RenderTask

HOLD_S = (
    0.05  # how long a delivery waits for the next render to start (a task's receive and reads come first)
)
CONTENT_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".exr": "image/x-exr"}

_beside = ThreadPoolExecutor(max_workers=2, thread_name_prefix="delivery")  # boto3's clients are thread-safe


@dataclass
class TaskResult:
    rendered: list[int]
    skipped: list[int]
    cancelled: bool = False
    failed: list[int] = field(default_factory=list)  # probe frames whose render failed (counted, not retried)
    deliveries: list[Future[None]] = field(default_factory=list)  # of `rendered`, made behind the renders

    def settle(self) -> None:
        """Wait until every rendered frame is uploaded and recorded; raise the first delivery's error."""
        settle(self.deliveries)


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


def record(
    reporter: JobLifecycle,
    task: RenderTask,
    frame: int,
    seconds: float,
    key: str,
    billed: float,
    looked: float,
    tiles_billed_s: float | None,
) -> None:
    """Record an uploaded frame: billed (less a probe's small look, `looked`), or stitched from its tiles."""
    if tiles_billed_s is None:
        job_billed = billed if looked else None
        reporter.frame_done(
            task.job_id, frame, seconds, key, billed_s=billed - looked, job_billed_s=job_billed
        )
    else:
        reporter.frame_done(
            task.job_id, frame, seconds, key, tiles_billed_s + billed, tiled=True, job_billed_s=billed
        )


class Courier:
    """Delivers frames (proxy, uploads, record) on a thread of its own while the worker renders the next frame, one
    at a time in the order sent: sending waits for the delivery before, so fast renders never pile frames up on
    disk. `settle` waits for a task's deliveries: its message is deleted only after.

    A delivery starts once the next render has (`rendering`), or after `hold_s` without one: the next task's
    receive and reads then have the stack's AWS to themselves instead of queueing behind the uploads."""

    def __init__(self, hold_s: float = HOLD_S) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="courier")
        self._last: Future[None] | None = None
        self._rendering = threading.Event()
        self.hold_s = hold_s

    def rendering(self) -> None:
        """The next render starts now (or nothing will follow soon: a task settles): deliveries may go."""
        self._rendering.set()

    def ready(self) -> None:
        """Wait until the delivery sent last is done (whatever its outcome: its task settles it)."""
        if self._last is not None:
            wait([self._last])

    def send(self, delivery: Callable[[], None]) -> Future[None]:
        """Start the delivery once the one before it is done."""
        self.ready()
        self._rendering.clear()

        def held() -> None:
            self._rendering.wait(self.hold_s)
            delivery()

        self._last = self._thread.submit(held)
        return self._last


def settle(deliveries: list[Future[None]], quietly: bool = False) -> None:
    """Wait for every delivery; raise the first one's error (each other delivery still finished), unless `quietly`."""
    wait(deliveries)
    for delivery in deliveries:
        if not quietly:
            delivery.result()


class Stages:
    """The frame in hand's stages (a task's own reads go with its first frame); `fields()` gives them for the log.

    Timed apart from the worker's `clock` (billing). CPU is the whole process's, so a stage that waits on AWS
    shows its own client work, not the server's, and the render stage shows Blender's threads (and the courier's);
    a stage behind the render counts its own thread's alone (not the proxy's upload beside it)."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.behind: set[str] = set()  # stages off the render's path (a delivery on the courier)
        self._begun: dict[str, tuple[float, float]] = {}

    def begin(self, name: str, behind: bool = False) -> None:
        """Stage `name` starts now (`behind`: off the render's path)."""
        if behind:
            self.behind.add(name)
        self._begun[name] = time.perf_counter(), self._cpu(name)

    def end(self, name: str) -> None:
        """Stage `name` (begun) ends now; its time is added to what the stage already has."""
        wall, cpu = self._begun.pop(name)
        self.wall[name] = self.wall.get(name, 0.0) + time.perf_counter() - wall
        self.cpu[name] = self.cpu.get(name, 0.0) + self._cpu(name) - cpu

    def _cpu(self, name: str) -> float:
        """The process's CPU seconds; a stage behind the render, its own thread's (the render's are the process's)."""
        return time.thread_time() if name in self.behind else time.process_time()

    @contextmanager
    def __call__(self, name: str, behind: bool = False) -> Iterator[None]:
        """Time the block as stage `name`."""
        self.begin(name, behind)
        try:
            yield
        finally:
            self.end(name)

    def less(self, name: str, inner: str) -> None:
        """Take stage `inner`'s time out of `name` (timed around it)."""
        for spent in (self.wall, self.cpu):
            spent[name] = spent.get(name, 0.0) - spent.get(inner, 0.0)

    def fields(self) -> dict[str, Any]:
        """Milliseconds by stage, wall and CPU, as the frame's log line carries them: those on the render's path
        (`stages_ms`), and those behind it (`behind_ms`)."""
        fields = {}
        for key, behind in (("stages", False), ("behind", True)):
            for unit, spent in (("ms", self.wall), ("cpu_ms", self.cpu)):
                chosen = {
                    name: round(s * 1000, 1) for name, s in spent.items() if (name in self.behind) == behind
                }
                if chosen or not behind:
                    fields[f"{key}_{unit}"] = chosen
        return fields
