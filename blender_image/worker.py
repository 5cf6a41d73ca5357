"""The render worker's logic: one task in, frames rendered, uploaded and counted. No bpy here (see blender.py)."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from aws_lambda_powertools import Logger

from backend.errors import ValidationError
from backend.names import under
from backend.render.estimates import duration
from backend.render.job_life import JobLifecycle
from backend.render.ports import JobStore
from backend.render.previews import proxy
from backend.render.records import FrameOutcome, JobStatus
from backend.render.store.tiles import STITCH_LEASE_S
from backend.render.tasks import RenderTask, scene_stem
from backend.render.tiles import describe
from blender_image.glue import Courier, Stages, TaskResult, job_and_recorded, record, upload_frame
from blender_image.glue import settle as settle_all
from blender_image.planning import ProbePlanner
from blender_image.ports import Renderer, Scenes
from blender_image.stitch import StitchError
from blender_image.tiling import Tiler, TileStore
from blender_image.watchdog import MARGIN_S, Watchdog

logger = Logger(service="studiobot-render")


class MissingFiles(RuntimeError):
    """Blender found files of the scene missing: every frame would render wrong, so none is tried again (with
    `frame_only`, what this frame reads: the frame fails for good, the task's others are still tried)."""

    def __init__(self, reason: str, frame_only: bool = False) -> None:
        super().__init__(reason)
        self.frame_only = frame_only


class FramesFailed(RuntimeError):
    """Frames of the task failed this delivery (each error noted on its frame): SQS delivers the task again, and
    only the frames still unrecorded are tried."""


class RenderWorker:
    """Renders a task's frames that are not recorded yet; a failure raises so SQS delivers the task again."""

    def __init__(
        self,
        jobs: JobStore,
        reporter: JobLifecycle,
        scenes: Scenes,
        renderer: Renderer,
        uploader: TileStore,
        work_dir: Path,
        clock: Callable[[], float] = time.perf_counter,
        limit_s: float = 900.0,
        margin_s: float = MARGIN_S,
        exit: Callable[[int], None] = os._exit,
        stitch_lease_s: float = STITCH_LEASE_S,
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
        self.tiler = Tiler(jobs, reporter, uploader, work_dir, stitch_lease_s)
        self.planner = ProbePlanner(renderer, reporter, usable_s=limit_s - margin_s)
        self._current: tuple[RenderTask, float] | None = None  # the task in hand, its billing mark
        self.stages = self.last_stages = Stages()  # the frame in hand's, the last delivered frame's
        self.courier = Courier()
        self._deliveries: list[Future[None]] = []  # the task in hand's

    def run(
        self, task: RenderTask, remaining_s: Callable[[], float] | None = None, settle: bool = True
    ) -> TaskResult:
        """Render the task's unrecorded frames; `remaining_s` says how long this invocation may still run (a
        frame that would outlast it is stopped by the watchdog). Each frame is delivered while the next renders,
        all by the time this returns unless `settle` is False (the caller then settles before acknowledging)."""
        self._deliveries = []
        try:
            result = self._run(task, remaining_s)
        except BaseException:
            self.courier.rendering()  # nothing renders next: no delivery waits for it
            settle_all(self._deliveries, quietly=True)  # recorded before SQS delivers the task again
            raise
        result.deliveries = self._deliveries
        if settle:
            self.courier.rendering()
            result.settle()
        return result

    def _run(self, task: RenderTask, remaining_s: Callable[[], float] | None) -> TaskResult:
        # Billed time: each frame carries the handler's time since the previous frame was recorded (the first
        # frame also the scene download and opening): summed, what Lambda bills for the task, to the millisecond.
        mark = self.clock()
        self.stages = Stages()
        self.stages.begin("task")
        job, recorded = job_and_recorded(self.jobs, task)  # the two reads side by side
        if job.status.is_final:
            logger.info("task of a finished job acknowledged", job_id=task.job_id, status=str(job.status))
            if task.probe:  # the delivery that stopped the job may have died before announcing it
                self.reporter.resume(task.job_id)
            return TaskResult(rendered=[], skipped=list(task.frames), cancelled=True)
        if job.status is JobStatus.HELD or task.generation < job.generation:  # deleted: never queued again
            logger.info("task of a held job, or sent before its hold, dropped", job_id=task.job_id)
            return TaskResult(rendered=[], skipped=list(task.frames), cancelled=True)
        if task.tile is None and job.settings.tiles:  # re-planned as tiles after this task was queued
            logger.info("whole-frame task of a tiled job acknowledged", job_id=task.job_id)
            return TaskResult(rendered=[], skipped=list(task.frames))
        if job.status is JobStatus.QUEUED:
            self.jobs.start(task.job_id)
        # A frame is recorded only with its final outcome: any record means an earlier delivery finished it.
        todo = [frame for frame in task.frames if frame not in recorded]
        result = TaskResult(rendered=[], skipped=[frame for frame in task.frames if frame in recorded])
        if not todo:
            # Delivered again after every frame was recorded: the last delivery may have died before what
            # follows a record (finishing the job, estimating after the probes, queueing the rest).
            self.reporter.resume(task.job_id)
            return result
        tiled = task.tile is not None
        try:  # a name leading out of the work folder or the cache, a bad manifest, a shot too large: for good
            out_stem = under(
                self.work_dir / "frames", f"{task.job_id}/{scene_stem(task.scene_key)}", "The task"
            )
            scene_path = None if tiled and self._tile_recorded(task) else self.scenes.scene_path(task)
        except ValidationError as error:
            self._fail_for_good(task, todo, str(error), mark, result)
            return result
        if scene_path is None:  # the tile is recorded: the frame's stitch may still be owed
            self._stitch(task, todo[0], out_stem, mark, result)
            return result
        self.stages.end("task")
        errors: dict[int, str] = {}
        for frame in todo:
            self._current = (task, mark)
            try:
                with (
                    self.stages("watchdog"),
                    self.watchdog.frame(frame, remaining_s() if remaining_s else None),
                ):
                    if task.probe and not tiled and self.planner.replanned(task, frame, scene_path):
                        return result  # its frames come back as tiles
                    started = self.clock()
                    with self.stages("render"):
                        self.courier.rendering()  # the frame before is delivered meanwhile
                        written = self._render(task, frame, scene_path, out_stem)
                self.stages.less("watchdog", "render")
                if self.watchdog.fired:  # recorded and told by the watchdog; the process is on its way out
                    return result
            except MissingFiles as error:
                left = todo[todo.index(frame) :][: 1 if error.frame_only else None]
                self._fail_for_good(task, left, str(error), mark, result)
                if not error.frame_only:
                    return result
                mark = self.clock()
                continue
            except Exception as error:
                message = f"{type(error).__name__}: {error}"
                self.jobs.note_frame_error(task.job_id, frame, message)
                if not task.probe:
                    # The chunk's other frames are still tried now: a bad frame never fails its neighbours. The
                    # task fails after them, so SQS tries the bad one again; the DLQ handler fails it at the end.
                    errors[frame] = message
                    continue
                # A probe says whether the scene renders at all: no retries, the job stops here.
                billed = self.clock() - mark
                if task.tile is not None and task.settings.tiles:
                    where = describe(task.tile, task.settings.tiles)
                    self.reporter.tile_failed(task.job_id, frame, task.tile, f"{where}: {message}", billed)
                else:
                    self.reporter.frame_failed(task.job_id, frame, message, billed_s=billed)
                result.failed.append(frame)
                return result
            seconds = self.clock() - started
            if not job.device and (device := getattr(self.renderer, "device", "")):
                layer, fps = getattr(self.renderer, "preview_layer", ""), getattr(self.renderer, "fps", "")
                self.jobs.note_device(task.job_id, device, layer, fps)  # for the card and the movie
                job = dataclasses.replace(job, device=device)
            if task.tile is not None:
                cut = self.renderer.cut
                assert cut is not None
                self.tiler.keep(task, frame, written, cut, seconds, billed_s=self.clock() - mark)
                self._stitch(task, frame, out_stem, self.clock(), result)
                continue
            handed = self._deliver(task, frame, written, seconds, mark, result, last=frame == todo[-1])
            mark = self.clock() if handed is None else handed
            self.stages = Stages()
        if errors:
            said = "; ".join(f"frame {frame}: {message}" for frame, message in errors.items())
            raise FramesFailed(f"{len(errors)} of {len(task.frames)} frames failed ({said[:1500]})")
        return result

    def _fail_for_good(
        self, task: RenderTask, frames: list[int], reason: str, mark: float, result: TaskResult
    ) -> None:
        """Permanent: a retry would fail the same way. Every frame left fails now with the reason, and a probe's
        failure stops the job before anything more is spent."""
        for frame in frames:
            billed = self.clock() - mark
            self.reporter.frame_failed(
                task.job_id, frame, reason, billed_s=billed, tiled=task.tile is not None
            )
            mark = self.clock()
            result.failed.append(frame)

    def _render(self, task: RenderTask, frame: int, scene_path: Path, out_stem: Path) -> Path:
        if task.tile is None:
            return self.renderer.render(
                scene_path, frame, task.settings, out_stem, allow_missing=task.allow_missing
            )
        return self.renderer.render(
            scene_path, frame, task.settings, out_stem, allow_missing=task.allow_missing, tile=task.tile
        )

    def _tile_recorded(self, task: RenderTask) -> bool:
        """Whether an earlier delivery recorded this tile; one recorded failed fails its frame again (idempotent:
        the delivery that recorded it may have died before the frame's record)."""
        mine = [record for record in self.jobs.tiles(task.job_id, task.frames[0]) if record.tile == task.tile]
        if mine and mine[0].outcome is FrameOutcome.FAILED:
            self.reporter.frame_failed(task.job_id, task.frames[0], mine[0].error, tiled=True)
        return bool(mine)

    def _stitch(self, task: RenderTask, frame: int, out_stem: Path, mark: float, result: TaskResult) -> None:
        """After a tile is in: the worker that wins the claim stitches the frame, which then flows on as a
        rendered frame does (its billed time is its tiles' and the stitch's; the job has the tiles' already)."""
        try:
            stitched = self.tiler.stitch_if_last(task, frame, out_stem)
        except StitchError as error:
            self.reporter.frame_failed(
                task.job_id, frame, f"its tiles could not be stitched: {error}", tiled=True
            )
            result.failed.append(frame)
            return
        if stitched is None:
            return
        try:
            self._deliver(task, frame, stitched.path, stitched.seconds, mark, result, stitched.tiles_billed_s)
        except Exception:  # the retry stitches again at once instead of waiting out the lease
            self.jobs.release_stitch(task.job_id, frame)
            raise
        self.tiler.clean(task, stitched)

    def _deliver(
        self,
        task: RenderTask,
        frame: int,
        written: Path,
        seconds: float,
        mark: float,
        result: TaskResult,
        tiles_billed_s: float | None = None,
        last: bool = True,
    ) -> float | None:
        """Upload a rendered (or stitched) frame and its proxy, and record it: a whole frame of a task that is no
        probe behind the next frame's render, on the courier (billed until handed over, the task's `last` frame
        until recorded), a probe's or a stitched frame at once. Returns when the next frame's billing starts."""
        stages, behind = self.stages, task.tile is None and not task.probe
        handed = self.clock() if behind and not last else None
        looked = self.planner.spent_s if task.probe else 0.0  # the probe's small look: not a frame's cost

        def delivery() -> None:
            with stages("proxy", behind):
                small = proxy(written)
            with stages("upload", behind):  # side by side; each layer's proxy too where the scene has several
                layers = bool(getattr(self.renderer, "preview_layer", ""))
                key = upload_frame(self.uploader, task, frame, written, small, layers)
            with stages("record", behind):
                billed = (self.clock() if handed is None else handed) - mark
                record(self.reporter, task, frame, seconds, key, billed, looked, tiles_billed_s)
            self.last_stages = stages
            fields = {"seconds": round(seconds, 3), **stages.fields()}
            logger.info("frame rendered", job_id=task.job_id, frame=frame, **fields)

        result.rendered.append(frame)
        if not behind:
            delivery()
            return None
        with stages("courier"):  # on the render's path: the frame before still being delivered
            self.courier.ready()
        self._deliveries.append(self.courier.send(delivery))
        return mark if handed is None else handed  # after the task's last frame: not read

    def _overran(self, frame: int, ran_s: float) -> None:
        """The watchdog's call, from its thread: the frame failed for good, with what it ran and what was billed."""
        assert self._current is not None
        task, mark = self._current
        retry = f"`/render retry {task.job_id}`"
        if task.tile is None or task.settings.tiles is None:
            what, advice = f"frame {frame}", f"{retry} renders it as tiles planned from a small look"
        else:
            what = f"frame {frame}, {describe(task.tile, task.settings.tiles)},"
            advice = f"{retry} plans the frame again with more tiles (up to 8×8)"
        margin = self.watchdog.margin_s
        reason = (
            f"{what} was stopped after {duration(ran_s)} of the {duration(self.limit_s)} a render may run "
            f"({duration(margin)} are kept to record it and tell you): {advice}; fewer `--samples` or a smaller "
            f"`--res` make it lighter"
        )
        self.reporter.frame_stopped(
            task.job_id,
            frame,
            reason,
            ran_s,
            self.limit_s,
            billed_s=self.clock() - mark,
            tile=task.tile,
            margin_s=margin,
        )
        logger.warning(
            "frame stopped by the watchdog", job_id=task.job_id, frame=frame, ran_s=round(ran_s, 1)
        )
