"""Frame outcomes in, events out: records each frame once, throttles progress, ends the job exactly once."""

from __future__ import annotations

from backend.events import FrameStopped, JobProgress
from backend.render.outbox import Outbox
from backend.render.ports import EventPublisher, JobStore, ProbeWatcher
from backend.render.records import FrameOutcome, FrameRecord, Job, JobStatus, TileRecord, TileRecorded
from backend.render.tasks import RenderSettings
from backend.render.tiles import describe, tile_count


class JobReporter:
    """The one path by which render results reach the job record and the studio-events topic."""

    def __init__(
        self,
        jobs: JobStore,
        events: EventPublisher,
        outbox: Outbox,
        progress_interval_s: float = 5.0,
        probes: ProbeWatcher | None = None,
    ) -> None:
        self.jobs = jobs
        self.events = events  # progress only: what must be announced goes through the outbox
        self.outbox = outbox
        self.progress_interval_s = progress_interval_s
        self.probes = probes

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
        recorded = self.jobs.record_tile(job_id, frame, record)
        if recorded.counted and not recorded.job.status.is_final:
            self._progress(recorded.job)
        return recorded

    def tile_failed(
        self, job_id: str, frame: int, tile: int, error: str, billed_s: float = 0.0, stopped_s: float = 0.0
    ) -> bool:
        """A tile that will not be rendered fails its frame, the tile named; True if this call counted the frame."""
        self.jobs.record_tile(
            job_id, frame, TileRecord(tile, FrameOutcome.FAILED, billed_s=billed_s, error=error)
        )
        return self.frame_failed(job_id, frame, error, tiled=True, stopped_s=stopped_s)

    def replan(self, job_id: str, settings: RenderSettings, predicted_s: float, reason: str) -> bool:
        """A probe predicts frames too long for the render function: the job renders tiles from now on (once),
        and the probes' next step runs (the estimate from the prediction, then Submit rules as ever)."""
        replanned = self.jobs.replan(job_id, settings, predicted_s, reason)
        self._follow_up(self.jobs.get(job_id))
        return replanned

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
            job = self.jobs.get(job_id)
            self.events.publish(
                FrameStopped(
                    job_id=job_id,
                    frame=frame,
                    ran_s=ran_s,
                    limit_s=limit_s,
                    margin_s=margin_s,
                    requested_by=job.requested_by,
                    channel=job.channel,
                    tile=describe(tile, job.settings.tiles)
                    if tile is not None and job.settings.tiles
                    else "",
                )
            )
        return counted

    def resume(self, job_id: str) -> None:
        """Redo what follows a frame's record, for a redelivered task whose frames are all recorded already."""
        self._follow_up(self.jobs.get(job_id))

    def cancel(self, job_id: str) -> Job:
        """Cancel the job and announce its end."""
        job = self.jobs.cancel(job_id)
        self.outbox.flush(job_id)
        return job

    def _record(self, job_id: str, record: FrameRecord) -> bool:
        recorded = self.jobs.record_frame(job_id, record)
        job = recorded.job
        # Also on duplicates: a worker that died after recording the last probe leaves the estimate to the next.
        if job.status is JobStatus.PROBING and record.frame in job.probe_frames:
            self._follow_up(job)
            return recorded.counted
        # Checked on duplicates too: a worker that died between counting the last frame and finishing the job
        # leaves the finish to whichever delivery comes next.
        if job.remaining == 0 and not job.status.is_final:
            finish(self.jobs, self.outbox, job_id)
            return recorded.counted
        if job.status.is_final:  # a frame of a stopped job: its end was announced, there is no progress
            return recorded.counted
        if recorded.counted:
            self._progress(job)
        return recorded.counted

    def _progress(self, job: Job) -> None:
        """Tell the card the job moved on, at most once per progress interval."""
        if self.jobs.claim_progress_report(job, self.progress_interval_s):
            self.events.publish(
                JobProgress(
                    job_id=job.job_id,
                    scene_key=job.scene_key,
                    done=job.done,
                    failed=job.failed,
                    total=job.total,
                    requested_by=job.requested_by,
                    channel=job.channel,
                )
            )

    def _follow_up(self, job: Job) -> None:
        """After a probe's record: the probes' next step (estimate, stop, resume), then the end of a job with
        nothing left to render (one whose frames were all probes)."""
        if job.probe_frames and self.probes is not None:  # also a stopped job whose end was never announced
            self.probes.probe_recorded(job)
            job = self.jobs.get(job.job_id)
        if job.remaining == 0 and not job.status.is_final:
            finish(self.jobs, self.outbox, job.job_id)


def finish(jobs: JobStore, outbox: Outbox, job_id: str) -> None:
    """End a job with no frame left, and announce it: the end is in the job's outbox from the same write."""
    if jobs.finish(job_id) is not None:
        outbox.flush(job_id)
