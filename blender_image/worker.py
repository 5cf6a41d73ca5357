"""The render worker's logic: one task in, frames rendered, uploaded and counted. No bpy here (see blender.py)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from aws_lambda_powertools import Logger

from backend.render.estimates import duration
from backend.render.ports import JobStore
from backend.render.previews import proxy
from backend.render.progress import JobReporter
from backend.render.records import JobStatus
from backend.render.tasks import RenderSettings, RenderTask
from blender_image.watchdog import MARGIN_S, Watchdog

logger = Logger(service="studiobot-render")


class MissingFiles(RuntimeError):
    """Blender found files of the scene missing: every frame would render wrong, so none is tried again."""


class FramesFailed(RuntimeError):
    """Frames of the task failed this delivery (each error noted on its frame): SQS delivers the task again, and
    only the frames still unrecorded are tried."""


class Renderer(Protocol):
    def render(
        self,
        scene_path: Path,
        frame: int,
        settings: RenderSettings,
        out_stem: Path,
        allow_missing: bool = False,
    ) -> Path: ...


class Scenes(Protocol):
    def scene_path(self, task: RenderTask) -> Path: ...


class Uploader(Protocol):
    def upload(self, path: Path, bucket: str, key: str, content_type: str | None = None) -> None: ...


CONTENT_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".exr": "image/x-exr"}


@dataclass
class TaskResult:
    rendered: list[int]
    skipped: list[int]
    cancelled: bool = False
    failed: list[int] = field(default_factory=list)  # probe frames whose render failed (counted, not retried)


class RenderWorker:
    """Renders a task's frames that are not recorded yet; a failure raises so SQS delivers the task again."""

    def __init__(
        self,
        jobs: JobStore,
        reporter: JobReporter,
        scenes: Scenes,
        renderer: Renderer,
        uploader: Uploader,
        work_dir: Path,
        clock: Callable[[], float] = time.perf_counter,
        limit_s: float = 900.0,
        margin_s: float = MARGIN_S,
        exit: Callable[[int], None] = os._exit,
    ) -> None:
        self.jobs = jobs
        self.reporter = reporter
        self.scenes = scenes
        self.renderer = renderer
        self.uploader = uploader
        self.work_dir = work_dir
        self.clock = clock
        self.limit_s = limit_s  # the render function's limit, for the words of a stopped frame
        self.watchdog = Watchdog(self._overran, exit=exit, margin_s=margin_s)
        self._current: tuple[RenderTask, float] | None = (
            None  # the task in hand and when its billing mark was
        )

    def run(self, task: RenderTask, remaining_s: Callable[[], float] | None = None) -> TaskResult:
        """Render the task's unrecorded frames; `remaining_s` says how long this invocation may still run (a
        frame that would outlast it is stopped by the watchdog)."""
        # Billed time: each frame carries the handler's time since the previous frame was recorded (the first
        # frame also the scene download and opening): summed, what Lambda bills for the task, to the millisecond.
        mark = self.clock()
        job = self.jobs.get(task.job_id)
        if job.status.is_final:
            logger.info("task of a finished job acknowledged", job_id=task.job_id, status=str(job.status))
            if task.probe:  # the delivery that stopped the job may have died before announcing it
                self.reporter.resume(task.job_id)
            return TaskResult(rendered=[], skipped=list(task.frames), cancelled=True)
        if job.status is JobStatus.QUEUED:
            self.jobs.start(task.job_id)
        # A frame is recorded only with its final outcome: any record means an earlier delivery finished it.
        recorded = {
            record.frame for record in self.jobs.frames(task.job_id, min(task.frames), max(task.frames))
        }
        todo = [frame for frame in task.frames if frame not in recorded]
        result = TaskResult(rendered=[], skipped=[frame for frame in task.frames if frame in recorded])
        if not todo:
            # Delivered again after every frame was recorded: the last delivery may have died before what
            # follows a record (finishing the job, estimating after the probes, queueing the rest).
            self.reporter.resume(task.job_id)
            return result
        scene_path = self.scenes.scene_path(task)
        out_stem = self.work_dir / "frames" / task.job_id / scene_path.stem
        errors: dict[int, str] = {}
        for frame in todo:
            started = self.clock()
            self._current = (task, mark)
            try:
                with self.watchdog.frame(frame, remaining_s() if remaining_s else None):
                    written = self.renderer.render(
                        scene_path, frame, task.settings, out_stem, allow_missing=task.allow_missing
                    )
                if self.watchdog.fired:  # recorded and told by the watchdog; the process is on its way out
                    return result
            except MissingFiles as error:
                # Permanent: a retry would find the same files missing. Every frame of the task fails now, with
                # the list as the reason, and a probe's failure stops the job before anything more is spent.
                for left in todo[todo.index(frame) :]:
                    self.reporter.frame_failed(task.job_id, left, str(error), billed_s=self.clock() - mark)
                    mark = self.clock()
                    result.failed.append(left)
                return result
            except Exception as error:
                message = f"{type(error).__name__}: {error}"
                self.jobs.note_frame_error(task.job_id, frame, message)
                if not task.probe:
                    # The chunk's other frames are still tried now: a bad frame never fails its neighbours. The
                    # task fails after them, so SQS tries the bad one again; the DLQ handler fails it at the end.
                    errors[frame] = message
                    continue
                # A probe says whether the scene renders at all: no retries, the job stops here.
                self.reporter.frame_failed(task.job_id, frame, message, billed_s=self.clock() - mark)
                result.failed.append(frame)
                return result
            seconds = self.clock() - started
            key = task.output_key(frame, written.suffix)
            small = proxy(written)
            if small is not None:  # the contact sheet, the GIF and the CLI read these, never the full frames
                self.uploader.upload(small, task.output_bucket, task.proxy_key(frame), "image/png")
                small.unlink(missing_ok=True)
            self.uploader.upload(written, task.output_bucket, key, CONTENT_TYPES.get(written.suffix))
            written.unlink(missing_ok=True)
            now = self.clock()
            self.reporter.frame_done(task.job_id, frame, seconds, key, billed_s=now - mark)
            mark = now
            result.rendered.append(frame)
            logger.info("frame rendered", job_id=task.job_id, frame=frame, seconds=round(seconds, 3))
        if errors:
            said = "; ".join(f"frame {frame}: {message}" for frame, message in errors.items())
            raise FramesFailed(f"{len(errors)} of {len(task.frames)} frames failed ({said[:1500]})")
        return result

    def _overran(self, frame: int, ran_s: float) -> None:
        """The watchdog's call, from its thread: the frame failed for good, with what it ran and what was billed."""
        assert self._current is not None
        task, mark = self._current
        reason = (
            f"frame {frame} ran {duration(ran_s)} of a {duration(self.limit_s)} limit and was stopped: it fits with "
            f"fewer `--samples` or a smaller `--res`"
        )
        self.reporter.frame_stopped(
            task.job_id, frame, reason, ran_s, self.limit_s, billed_s=self.clock() - mark
        )
        logger.warning(
            "frame stopped by the watchdog", job_id=task.job_id, frame=frame, ran_s=round(ran_s, 1)
        )
