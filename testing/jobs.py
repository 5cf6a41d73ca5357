"""An in-memory job store that honours the same conditions as `backend.render.store.DynamoJobs`.

Every status change is decided by its row in `backend.render.lifecycle` (the table the DynamoDB store builds its
condition expressions from) and returns False (or raises the same error) when the row refuses it, so fan-out, probe and approval logic can be tested without moto. The contract test in
`tests/functional/test_job_store_contract.py` runs one scenario against both stores.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from backend.errors import NotFoundError
from backend.events import Event
from backend.render.estimates import Approval, Estimate
from backend.render.lifecycle import (
    FACTS,
    allows,
    finished_as,
    not_held,
    not_holdable,
    nothing_to_cancel,
    resumed_to,
    row,
)
from backend.render.lifecycle import Event as Step
from backend.render.records import (
    FINAL,
    FrameOutcome,
    FrameRecord,
    Job,
    JobStatus,
    Priority,
    Recorded,
    TileRecord,
    TileRecorded,
)
from backend.render.spend import month_of
from backend.render.store import ENQUEUE_LEASE_S
from backend.render.store.tiles import STITCH_LEASE_S
from backend.render.tasks import RenderSettings


@dataclasses.dataclass
class _Row:
    job: Job
    claims: dict[str, float] = dataclasses.field(default_factory=dict)  # enqueue leases, notices, throttles
    outbox_at: float | None = None  # since when a fact waits to be published (the by_outbox sort key)


class InMemoryJobs:
    """Jobs, frames and notices in dictionaries; one lock makes each call atomic like a conditional write."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._rows: dict[str, _Row] = {}
        self._frames: dict[str, dict[int, FrameRecord]] = {}
        self._errors: dict[str, dict[int, str]] = {}
        self._tiles: dict[tuple[str, int], dict[int, TileRecord]] = {}
        self._lock = threading.Lock()

    # -- helpers for tests ---------------------------------------------------------------------------------------

    def claimed(self, job_id: str, name: str) -> bool:
        """Whether a notice (`estimate`, `approved`…) or claim is held."""
        return name in self._row(job_id).claims

    # -- queries -------------------------------------------------------------------------------------------------

    def get(self, job_id: str) -> Job:
        return self._row(job_id).job

    def recent(self, channel: str, limit: int = 20) -> list[Job]:
        jobs = [row.job for row in self._rows.values() if row.job.channel == channel]
        return sorted(jobs, key=lambda job: job.created_at, reverse=True)[:limit]

    def month_jobs(self, month: str) -> list[Job]:
        jobs = [row.job for row in self._rows.values() if month_of(row.job.created_at) == month]
        return sorted(jobs, key=lambda job: job.created_at)

    def active_jobs(self, render_class: str) -> list[Job]:
        """The class's jobs not yet over, oldest first (the `by_active` index)."""
        jobs = [
            row.job
            for row in self._rows.values()
            if not row.job.status.is_final and row.job.settings.render_class == render_class
        ]
        return sorted(jobs, key=lambda job: job.created_at)

    def awaiting_since_before(self, cutoff: float) -> list[str]:
        return [
            row.job.job_id
            for row in self._rows.values()
            if row.job.awaiting and (row.job.awaiting_since or 0.0) <= cutoff
        ]

    # -- transitions ---------------------------------------------------------------------------------------------

    def create(self, job: Job) -> tuple[Job, bool]:
        with self._lock:
            if job.job_id in self._rows:
                return self._rows[job.job_id].job, False
            awaiting = job.status is JobStatus.AWAITING_APPROVAL
            stored = dataclasses.replace(
                job,
                awaiting=awaiting,
                awaiting_since=(job.awaiting_since or job.created_at) if awaiting else job.awaiting_since,
            )
            self._rows[job.job_id] = _Row(stored)
            return stored, True

    def claim_enqueue(self, job_id: str, probes: bool = False, lease_s: float = ENQUEUE_LEASE_S) -> bool:
        now = self._clock()
        with self._lock:
            row = self._row(job_id)
            done = row.job.probes_enqueued if probes else row.job.enqueued
            claim = "probes_claimed_at" if probes else "enqueue_claimed_at"
            if done or row.claims.get(claim, float("-inf")) > now - lease_s:
                return False
            row.claims[claim] = now
            return True

    def mark_enqueued(self, job_id: str, probes: bool = False) -> Job:
        if probes:
            return self._set(job_id, probes_enqueued=True)
        return self._set(job_id, enqueued=True, fanned_out_at=self._clock())

    def start(self, job_id: str) -> bool:
        return self._move(job_id, Step.START, JobStatus.RUNNING, started_at=self._clock())

    def finish(self, job_id: str, job: Job | None = None) -> Job | None:
        job = job or self.get(job_id)
        won = self._move(job_id, Step.FINISH, finished_as(job), finished_at=self._clock())
        return self.get(job_id) if won else None

    def cancel(self, job_id: str) -> Job:
        if not self._move(
            job_id, Step.CANCEL, JobStatus.CANCELLED, finished_at=self._clock(), awaiting=False
        ):
            raise nothing_to_cancel(self.get(job_id))
        return self.get(job_id)

    def hold(self, job_id: str, by: str) -> Job:
        with self._lock:
            job = self._row(job_id).job
            if not allows(Step.HOLD, job, JobStatus.HELD):
                raise not_holdable(job)
            changes = {"held_by": by, "held_at": self._clock(), "generation": job.generation + 1}
            return self._put(job, status=JobStatus.HELD, **changes)

    def resume(self, job_id: str) -> Job:
        with self._lock:
            job = self._row(job_id).job
            to = resumed_to(job)
            if not allows(Step.RESUME, job, to):
                raise not_held(job)
            changes = {"held_by": "", "held_at": None, "generation": job.generation + 1}
            return self._put(job, status=to, **changes)

    def prioritise(
        self, job_id: str, priority: Priority, statuses: tuple[JobStatus, ...], bump: bool
    ) -> Job | None:
        with self._lock:
            job = self._row(job_id).job
            if job.status not in statuses:
                return None
            return self._put(job, priority=priority, generation=job.generation + int(bump))

    def settle_probes(self, job_id: str, estimate: Estimate, approval: Approval | None) -> bool:
        if approval is None:
            return self._move(job_id, Step.ESTIMATE, JobStatus.RUNNING, estimate=estimate)
        return self._move(
            job_id,
            Step.ESTIMATE,
            JobStatus.AWAITING_APPROVAL,
            estimate=estimate,
            approval=approval.who,
            approval_reason=approval.reason,
            awaiting=True,
            awaiting_since=self._clock(),
        )

    def replan(self, job_id: str, settings: RenderSettings, predicted_s: float, reason: str) -> bool:
        return self._move(
            job_id,
            Step.REPLAN,
            JobStatus.PROBING,
            settings=settings,
            replanned=reason[:500],
            predicted_s=round(predicted_s, 3),
        )

    def note_device(self, job_id: str, device: str, preview_layer: str = "", fps: str = "") -> None:
        with self._lock:
            job = self._row(job_id).job
            if not job.device:
                self._put(job, device=device[:200], preview_layer=preview_layer[:200], fps=fps[:20])

    def note_untaken(self, job_id: str, waited_s: float) -> None:
        with self._lock:
            if job_id in self._rows:  # as DynamoDB's conditional write: a job gone meanwhile is left alone
                self._put(self._rows[job_id].job, untaken_s=round(waited_s, 3))

    def fail(self, job_id: str, reason: str) -> Job | None:
        won = self._move(
            job_id, Step.FAIL, JobStatus.FAILED, failure=reason[:1000], finished_at=self._clock()
        )
        return self.get(job_id) if won else None

    def approve(self, job_id: str, by: str, by_admin: bool, next_status: JobStatus) -> bool:
        return self._move(
            job_id,
            Step.SUBMIT,
            next_status,
            approved_by=by,
            approved_by_admin=by_admin,
            approval="",
            awaiting=False,
        )

    def expire(self, job_id: str, cutoff: float, reason: str) -> Job | None:
        params = {"cutoff": cutoff}
        won = self._move(
            job_id, Step.EXPIRE, JobStatus.EXPIRED, params, failure=reason, finished_at=self._clock()
        )
        return self.get(job_id) if won else None

    def clear_awaiting(self, job_id: str) -> None:
        self._set(job_id, awaiting=False)

    # -- frames --------------------------------------------------------------------------------------------------

    def record_frame(self, job_id: str, record: FrameRecord) -> Recorded:
        with self._lock:
            job = self._row(job_id).job
            frames = self._frames.setdefault(job_id, {})
            if record.frame in frames:
                return Recorded(counted=False, job=job)
            frames[record.frame] = dataclasses.replace(record, error=record.error[:1000])
            counter = "done" if record.outcome is FrameOutcome.DONE else "failed"
            billed = record.billed_s if record.job_billed_s is None else record.job_billed_s
            counts = {
                frame: n for frame, n in job.tile_counts.items() if not record.tiled or frame != record.frame
            }
            job = self._put(
                job,
                **{counter: getattr(job, counter) + 1},
                billed_s=job.billed_s + round(billed, 3),
                tile_counts=counts,
            )
            return Recorded(counted=True, job=job)

    # -- tiles ---------------------------------------------------------------------------------------------------

    def record_tile(self, job_id: str, frame: int, record: TileRecord) -> TileRecorded:
        with self._lock:
            job = self._row(job_id).job
            tiles = self._tiles.setdefault((job_id, frame), {})
            if record.tile in tiles:
                return TileRecorded(counted=False, job=job)
            tiles[record.tile] = dataclasses.replace(record, error=record.error[:1000])
            counts = {**job.tile_counts, frame: job.tile_counts.get(frame, 0) + 1}
            job = self._put(job, billed_s=job.billed_s + round(record.billed_s, 3), tile_counts=counts)
            return TileRecorded(counted=True, job=job)

    def tiles(self, job_id: str, frame: int) -> list[TileRecord]:
        with self._lock:
            tiles = self._tiles.get((job_id, frame), {})
            return [tiles[tile] for tile in sorted(tiles)]

    def release_stitch(self, job_id: str, frame: int) -> None:
        with self._lock:
            self._row(job_id).claims.pop(f"stitch_{frame}", None)

    def claim_stitch(self, job_id: str, frame: int, lease_s: float = STITCH_LEASE_S) -> bool:
        now = self._clock()
        with self._lock:
            claims = self._row(job_id).claims
            key = f"stitch_{frame}"
            if key in claims and claims[key] >= now - lease_s:
                return False
            claims[key] = now
            return True

    def note_frame_error(self, job_id: str, frame: int, message: str) -> None:
        self._errors.setdefault(job_id, {})[frame] = message[:1000]

    def frames(self, job_id: str, first: int | None = None, last: int | None = None) -> list[FrameRecord]:
        low, high = first if first is not None else 0, last if last is not None else float("inf")
        records = self._frames.get(job_id, {})
        return [records[frame] for frame in sorted(records) if low <= frame <= high]

    def failed_frames(self, job_id: str) -> list[int]:
        return [record.frame for record in self.frames(job_id) if record.outcome is FrameOutcome.FAILED]

    def frame_errors(self, job_id: str, frames: Iterable[int]) -> dict[int, str]:
        errors = self._errors.get(job_id, {})
        return {frame: errors[frame] for frame in frames if frame in errors}

    def frames_at(self, job_id: str, frames: Iterable[int]) -> list[FrameRecord]:
        records = self._frames.get(job_id, {})
        return [records[frame] for frame in sorted(set(frames)) if frame in records]

    def job_and_frames(self, job_id: str, frames: Iterable[int]) -> tuple[Job, list[FrameRecord]]:
        with self._lock:
            return self.get(job_id), self.frames_at(job_id, frames)

    # -- notices -------------------------------------------------------------------------------------------------

    def claim_progress_report(self, job: Job, interval_s: float) -> bool:
        return self._claim_interval(job.job_id, "progress_at", interval_s)

    def claim_completion_notice(self, job_id: str) -> bool:
        return self.claim_completion(job_id) is not None

    def claim_completion(self, job_id: str) -> Job | None:
        with self._lock:
            job = self._row(job_id).job
            if job.notified or job.status not in FINAL:
                return None
            return self._put(job, notified=True)

    def release_completion_notice(self, job_id: str) -> None:
        self._set(job_id, notified=False)

    def claim_notice(self, job_id: str, name: str) -> bool:
        with self._lock:
            row = self._row(job_id)
            if f"notice_{name}" in row.claims:
                return False
            row.claims[f"notice_{name}"] = self._clock()
            return True

    def release_notice(self, job_id: str, name: str) -> None:
        with self._lock:
            self._row(job_id).claims.pop(f"notice_{name}", None)

    # -- plumbing ------------------------------------------------------------------------------------------------

    def _row(self, job_id: str) -> _Row:
        if job_id not in self._rows:
            raise NotFoundError(f"There is no render job `{job_id}`: `/render list` shows recent jobs.")
        return self._rows[job_id]

    def _put(self, job: Job, **changes: Any) -> Job:
        stored = dataclasses.replace(job, **changes)
        self._rows[job.job_id].job = stored
        return stored

    def _set(self, job_id: str, **changes: Any) -> Job:
        with self._lock:
            return self._put(self._row(job_id).job, **changes)

    def _move(
        self, job_id: str, step: Step, to: JobStatus, params: dict[str, float] | None = None, **changes: Any
    ) -> bool:
        """The table's row for `step` decides; when it allows, the job moves to `to` with `changes` and the row's
        fact in its outbox, all at once."""
        with self._lock:
            job = self._row(job_id).job
            if not allows(step, job, to, **(params or {})):
                return False
            fact = row(step).fact
            self._put(job, status=to, **changes, **(self._pending(job, fact) if fact else {}))
            return True

    def _pending(self, job: Job, fact: str) -> dict[str, Any]:
        """The change that puts `fact` in the job's outbox (called under the lock, within the transition)."""
        row = self._rows[job.job_id]
        row.outbox_at = row.outbox_at if row.outbox_at is not None else self._clock()
        return {"outbox": tuple(name for name in FACTS if name in job.outbox or name == fact)}

    # -- the outbox ----------------------------------------------------------------------------------------------

    def mark_published(self, job_id: str, fact: str) -> bool:
        with self._lock:
            row = self._row(job_id)
            if fact not in row.job.outbox:
                return False
            self._put(row.job, outbox=tuple(name for name in row.job.outbox if name != fact))
            if not row.job.outbox:
                row.outbox_at = None
            return True

    def pending_before(self, cutoff: float) -> list[str]:
        with self._lock:
            rows = [
                row for row in self._rows.values() if row.outbox_at is not None and row.outbox_at <= cutoff
            ]
            return [row.job.job_id for row in sorted(rows, key=lambda row: row.outbox_at or 0.0)]

    def _claim_interval(self, job_id: str, attribute: str, interval_s: float) -> bool:
        now = self._clock()
        with self._lock:
            job = self._row(job_id).job
            last = getattr(job, attribute)
            if last is not None and last > now - interval_s:
                return False
            self._put(job, **{attribute: now})
            return True


class RecordingQueue:
    """A task queue that keeps what was sent, in order (one list per `send_all`), and each send's group."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.groups: list[str] = []

    def send_all(self, bodies: Sequence[str], group: str) -> None:
        self.batches.append(list(bodies))
        self.groups.append(group)

    @property
    def bodies(self) -> list[str]:
        return [body for batch in self.batches for body in batch]


class RecordingEvents:
    """An event publisher that keeps what was published."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def publish(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind: type) -> list[Any]:
        return [event for event in self.events if isinstance(event, kind)]
