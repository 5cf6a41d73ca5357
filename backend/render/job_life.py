"""The one service that drives a job through `backend.render.lifecycle`: fan-out, progress and finishing.

The fan-out (`backend.render.fanout`: the phases on the queue, the probes' estimate, Submit, the expiry) and the
progress (`backend.render.progress`: records counted once, the throttled card) know nothing of each other; this
service calls each in turn. After every frame's record it decides what follows: the probes' next step, the job's
end (FINISH, announced through the outbox), or progress.
"""

from __future__ import annotations

from typing import Protocol

from backend.errors import ConflictError
from backend.render.fanout import Fanout
from backend.render.frames import stored_frames
from backend.render.outbox import Outbox
from backend.render.ports import FrameLedger, JobQueries, TileLedger
from backend.render.progress import Progress
from backend.render.records import (
    FrameOutcome,
    FrameRecord,
    Job,
    JobStatus,
    Priority,
    TileRecord,
    TileRecorded,
)
from backend.render.tasks import RenderSettings
from backend.render.tiles import tile_count


class LifeJobs(FrameLedger, TileLedger, JobQueries, Protocol):
    """What the lifecycle needs of the job store: the job, its records, and the changes it makes itself."""

    def finish(self, job_id: str, job: Job | None = None) -> Job | None: ...
    def cancel(self, job_id: str) -> Job: ...
    def hold(self, job_id: str, by: str) -> Job: ...
    def resume(self, job_id: str) -> Job: ...
    def prioritise(
        self, job_id: str, priority: Priority, statuses: tuple[JobStatus, ...], bump: bool
    ) -> Job | None: ...
    def replan(self, job_id: str, settings: RenderSettings, predicted_s: float, reason: str) -> bool: ...


class JobLifecycle:
    """What renders report to, and what Submit, cancel and the expiry sweep call: one job's life, driven."""

    def __init__(self, jobs: LifeJobs, fanout: Fanout, progress: Progress, outbox: Outbox) -> None:
        self.jobs = jobs
        self.fanout = fanout
        self.progress = progress
        self.outbox = outbox

    # -- what a render worker (or the dead-letter handler) reports ------------------------------------------------

    def frame_done(
        self,
        job_id: str,
        frame: int,
        seconds: float,
        output_key: str,
        billed_s: float = 0.0,
        tiled: bool = False,
        job_billed_s: float | None = None,
    ) -> bool:
        """Count a rendered (or stitched) frame; True if this call counted it (False for a duplicate delivery).
        `job_billed_s`: what it adds to the job's billed time when that is not `billed_s`."""
        record = FrameRecord(
            frame,
            FrameOutcome.DONE,
            seconds=seconds,
            output_key=output_key,
            billed_s=billed_s,
            tiled=tiled,
            job_billed_s=job_billed_s,
        )
        return self._record(job_id, record)

    def frame_failed(
        self,
        job_id: str,
        frame: int,
        error: str,
        billed_s: float = 0.0,
        tiled: bool = False,
        stopped_s: float = 0.0,
    ) -> bool:
        """Count a frame that will not be rendered; True if this call counted it."""
        record = FrameRecord(
            frame, FrameOutcome.FAILED, error=error, billed_s=billed_s, tiled=tiled, stopped_s=stopped_s
        )
        return self._record(job_id, record)

    def tile_done(self, job_id: str, frame: int, record: TileRecord) -> TileRecorded:
        """Count a rendered tile once (its billed time and its place on the card); the card moves on."""
        return self.progress.tile_done(job_id, frame, record)

    def tile_failed(
        self, job_id: str, frame: int, tile: int, error: str, billed_s: float = 0.0, stopped_s: float = 0.0
    ) -> bool:
        """A tile that will not be rendered fails its frame, the tile named; True if this call counted the frame."""
        self.progress.record_tile(
            job_id, frame, TileRecord(tile, FrameOutcome.FAILED, billed_s=billed_s, error=error)
        )
        return self.frame_failed(job_id, frame, error, tiled=True, stopped_s=stopped_s)

    def frame_stopped(
        self,
        job_id: str,
        frame: int,
        reason: str,
        ran_s: float,
        limit_s: float,
        billed_s: float = 0.0,
        tile: int | None = None,
        margin_s: float = 0.0,
    ) -> bool:
        """A frame (or one of its tiles) the watchdog stopped at the time limit: failed for good (no delivery renders
        it again; a retry re-plans it from how long it ran), and the channel told at once. True if this call
        counted it."""
        if tile is None:
            counted = self.frame_failed(job_id, frame, reason, billed_s, stopped_s=ran_s)
        else:  # the whole frame takes at least as long as its tiles would, each as long as this one ran
            whole_s = ran_s * tile_count(self.jobs.get(job_id).settings.tiles)
            counted = self.tile_failed(job_id, frame, tile, reason, billed_s, stopped_s=whole_s)
        if counted:
            self.progress.stopped(job_id, frame, ran_s, limit_s, margin_s, tile)
        return counted

    def replan(self, job_id: str, settings: RenderSettings, predicted_s: float, reason: str) -> bool:
        """REPLAN: a probe predicts frames too long for the render function: the job renders tiles from now on
        (once), and the probes' next step runs (the estimate from the prediction, then Submit rules as ever)."""
        replanned = self.jobs.replan(job_id, settings, predicted_s, reason)
        self._follow_up(self.jobs.get(job_id))
        return replanned

    def resume(self, job_id: str) -> None:
        """Redo what follows a frame's record, for a redelivered task whose frames are all recorded already."""
        self._follow_up(self.jobs.get(job_id))

    # -- what people do (the desk) and the sweep -----------------------------------------------------------------

    def approve(self, job_id: str, user: str) -> Job:
        """SUBMIT: someone pressed it (the fan-out checks they may and queues the next phase); a job whose frames
        were all probes ends there; then what it made true is announced."""
        job, submitted = self.fanout.approve(job_id, user)
        if not submitted:  # a Submit whose queueing died halfway, finished by pressing it again
            return job
        if job.remaining == 0 and job.status is JobStatus.RUNNING:
            self.jobs.finish(job_id)
        self.outbox.flush(job_id)
        return self.jobs.get(job_id)

    def cancel(self, job_id: str) -> Job:
        """CANCEL the job and announce its end."""
        job = self.jobs.cancel(job_id)
        self.outbox.flush(job_id)
        return job

    def hold(self, job_id: str, by: str) -> Job:
        """HOLD: no new frames start (those in hand finish and count; its queued tasks are dropped as taken), and
        the card says who holds it."""
        job = self.jobs.hold(job_id, by)
        self.progress.moved_on(job)
        return job

    def resume_held(self, job_id: str) -> tuple[Job, int]:
        """RESUME: queue exactly its frames not yet rendered, as a new generation; the job and how many frames
        (none left: it finishes now)."""
        holder = self.jobs.get(job_id).held_by
        job = self.jobs.resume(job_id)
        frames = self._unrendered(job)
        if frames:
            self._requeue(job, frames, holder)
            self.progress.moved_on(job)
        else:  # the frames in hand at the hold were its last, recorded since
            self._finish(self.jobs.get(job_id))
        return job, len(frames)

    def prioritise(self, job_id: str, priority: Priority) -> tuple[Job, int]:
        """A new priority: a queued or rendering job's frames not yet rendered are queued again in its lane (its
        older tasks are dropped as taken); a held job's when it resumes, a probing or waiting one's when the rest
        is queued. The job, and how many frames were queued again."""
        job = self.jobs.get(job_id)
        if job.status.is_final:
            state = str(job.status).replace("_", " ")
            raise ConflictError(f"`{job_id}` is {state}: its priority can no longer change.")
        if job.priority is priority:
            raise ConflictError(f"`{job_id}` is {priority} already: nothing to change.")
        sent = job.status in (JobStatus.QUEUED, JobStatus.RUNNING) and job.enqueued
        statuses = (JobStatus.QUEUED, JobStatus.RUNNING) if sent else (job.status,)
        changed = self.jobs.prioritise(job_id, priority, statuses, bump=sent or job.status is JobStatus.HELD)
        if changed is None:
            raise ConflictError(f"`{job_id}` changed meanwhile: ask again.")
        frames = self._unrendered(changed) if sent else []
        if frames:
            self._requeue(changed, frames, changed.requested_by)
        return changed, len(frames)

    def _requeue(self, job: Job, frames: list[int], holder: str) -> None:
        """Queue the frames again; if the queue refuses them, the job is held (by `holder`) so that resuming it
        queues them then: its older tasks are dropped already, and nothing would render them otherwise."""
        try:
            self.fanout.requeue(job, frames)
        except Exception as error:
            self.jobs.hold(job.job_id, holder)
            raise ConflictError(
                f"`{job.job_id}`'s frames could not be queued again ({type(error).__name__}): it is held, and "
                f"`/render resume {job.job_id}` queues them."
            ) from error

    def _unrendered(self, job: Job) -> list[int]:
        """The job's frames with no record yet (neither rendered nor failed)."""
        recorded = {record.frame for record in self.jobs.frames(job.job_id)}
        return [frame for frame in stored_frames(job.frames_spec) if frame not in recorded]

    def expire_waiting(self) -> list[Job]:
        """EXPIRE every job nobody submitted in time, each announced once."""
        return self.fanout.expire_waiting()

    # -- what follows a record ----------------------------------------------------------------------------------

    def _record(self, job_id: str, record: FrameRecord) -> bool:
        recorded = self.jobs.record_frame(job_id, record)  # counted once, with the job after it
        job = recorded.job
        # Also on duplicates: a worker that died after recording the last probe leaves the estimate to the next.
        if job.status is JobStatus.PROBING and record.frame in job.probe_frames:
            self._follow_up(job)
            return recorded.counted
        # Checked on duplicates too: a worker that died between counting the last frame and finishing the job
        # leaves the finish to whichever delivery comes next.
        if job.remaining == 0 and not job.status.is_final:
            self._finish(job)
            return recorded.counted
        if job.status.is_final:  # a frame of a stopped job: its end was announced, there is no progress
            return recorded.counted
        if recorded.counted:
            self.progress.moved_on(job)
        return recorded.counted

    def _follow_up(self, job: Job) -> None:
        """After a probe's record: the probes' next step (estimate, stop, resume), then the end of a job with
        nothing left to render (one whose frames were all probes)."""
        if job.probe_frames:  # also a stopped job whose end was never announced
            self.fanout.probe_recorded(job)
            job = self.jobs.get(job.job_id)
        if job.remaining == 0 and not job.status.is_final:
            self._finish(job)

    def _finish(self, job: Job) -> None:
        """FINISH a job with no frame left (`job`: as read since its last record), and announce it: the end is in
        the job's outbox from the same write, which returns the job (nothing is read again)."""
        finished = self.jobs.finish(job.job_id, job)
        if finished is not None:
            self.outbox.flush(job.job_id, finished)
