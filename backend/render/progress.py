"""Progress out: a tile counted once, the card told how a job moves on (at most every few seconds), a stopped
frame said at once. Frames are recorded, and what follows a record decided, by `backend.render.job_life`."""

from __future__ import annotations

from typing import Protocol

from backend.events import FrameStopped, JobProgress
from backend.render.ports import EventPublisher, JobQueries, TileLedger
from backend.render.records import Job, TileRecord, TileRecorded
from backend.render.tiles import describe


class ProgressJobs(TileLedger, JobQueries, Protocol):
    """What progress needs of the job store: the tile ledger, the job, and the progress throttle."""

    def claim_progress_report(self, job: Job, interval_s: float) -> bool: ...


class Progress:
    """Records outcomes once and tells the studio-events topic how a job moves on (throttled)."""

    def __init__(self, jobs: ProgressJobs, events: EventPublisher, interval_s: float = 5.0) -> None:
        self.jobs = jobs
        self.events = events  # progress only: what must be announced goes through the outbox
        self.interval_s = interval_s

    def record_tile(self, job_id: str, frame: int, record: TileRecord) -> TileRecorded:
        """Count a tile's outcome once; the job afterwards."""
        return self.jobs.record_tile(job_id, frame, record)

    def tile_done(self, job_id: str, frame: int, record: TileRecord) -> TileRecorded:
        """Count a rendered tile once (its billed time and its place on the card); the card moves on."""
        recorded = self.record_tile(job_id, frame, record)
        if recorded.counted and not recorded.job.status.is_final:
            self.moved_on(recorded.job)
        return recorded

    def moved_on(self, job: Job) -> None:
        """Tell the card the job moved on, at most once per progress interval."""
        if self.jobs.claim_progress_report(job, self.interval_s):
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

    def stopped(
        self, job_id: str, frame: int, ran_s: float, limit_s: float, margin_s: float, tile: int | None
    ) -> None:
        """Tell the channel at once that the watchdog stopped a frame (or one of its tiles) at the time limit."""
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
                tile=describe(tile, job.settings.tiles) if tile is not None and job.settings.tiles else "",
            )
        )
