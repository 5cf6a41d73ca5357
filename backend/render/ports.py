"""What the render services talk to, declared once (events: `backend.events.EventPublisher`): the job store by concern, the queue, the events, the scenes.

The AWS adapters satisfy these (`backend.render.store.DynamoJobs`, `backend.aws.sqs.SqsQueue`,
`backend.aws.sns.SnsPublisher`, `backend.aws.s3.S3Store`, `backend.budgets.guard.BudgetGuard`); the tests' in-memory
fakes honour the same conditions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from backend.events import EventPublisher
from backend.render.estimates import Approval, Estimate
from backend.render.records import (
    FrameRecord,
    Job,
    JobStatus,
    Priority,
    Recorded,
    TileRecord,
    TileRecorded,
)
from backend.render.tasks import RenderSettings

__all__ = [
    "EventPublisher",
    "FrameLedger",
    "GuardReader",
    "JobQueries",
    "JobStore",
    "JobTransitions",
    "NodeLauncher",
    "NodePrices",
    "NoticeBook",
    "PendingFacts",
    "Phases",
    "SceneStore",
    "SubmittedJobs",
    "TaskQueue",
    "TileLedger",
]

if TYPE_CHECKING:
    from backend.aws.s3 import ObjectInfo
    from backend.budgets.guard import GuardState


class JobTransitions(Protocol):
    """Creates jobs and moves their status; each call is one conditional write that one caller wins."""

    def create(self, job: Job) -> tuple[Job, bool]: ...
    def claim_enqueue(self, job_id: str, probes: bool = False) -> bool: ...
    def mark_enqueued(self, job_id: str, probes: bool = False) -> Job: ...
    def start(self, job_id: str) -> bool: ...
    def finish(self, job_id: str, job: Job | None = None) -> Job | None: ...
    def cancel(self, job_id: str) -> Job: ...
    def hold(self, job_id: str, by: str) -> Job: ...
    def resume(self, job_id: str) -> Job: ...
    def prioritise(
        self, job_id: str, priority: Priority, statuses: tuple[JobStatus, ...], bump: bool
    ) -> Job | None: ...
    def settle_probes(self, job_id: str, estimate: Estimate, approval: Approval | None) -> bool: ...
    def replan(self, job_id: str, settings: RenderSettings, predicted_s: float, reason: str) -> bool: ...
    def fail(self, job_id: str, reason: str) -> Job | None: ...
    def note_device(self, job_id: str, device: str, preview_layer: str = "") -> None: ...
    def note_untaken(self, job_id: str, waited_s: float) -> None: ...
    def approve(self, job_id: str, by: str, by_admin: bool, next_status: JobStatus) -> bool: ...
    def expire(self, job_id: str, cutoff: float, reason: str) -> Job | None: ...
    def clear_awaiting(self, job_id: str) -> None: ...


class FrameLedger(Protocol):
    """A frame's outcome counts once however often it is delivered."""

    def record_frame(self, job_id: str, record: FrameRecord) -> Recorded: ...
    def note_frame_error(self, job_id: str, frame: int, message: str) -> None: ...
    def frames(self, job_id: str, first: int | None = None, last: int | None = None) -> list[FrameRecord]: ...
    def failed_frames(self, job_id: str) -> list[int]: ...
    def frame_errors(self, job_id: str, frames: Iterable[int]) -> dict[int, str]: ...
    def frames_at(self, job_id: str, frames: Iterable[int]) -> list[FrameRecord]: ...


class TileLedger(Protocol):
    """A tile's outcome counts once; one caller stitches its frame."""

    def record_tile(self, job_id: str, frame: int, record: TileRecord) -> TileRecorded: ...
    def tiles(self, job_id: str, frame: int) -> list[TileRecord]: ...
    def claim_stitch(self, job_id: str, frame: int, lease_s: float = ...) -> bool: ...
    def release_stitch(self, job_id: str, frame: int) -> None: ...


class JobQueries(Protocol):
    """Reading jobs."""

    def get(self, job_id: str) -> Job: ...
    def recent(self, channel: str, limit: int = 20) -> list[Job]: ...
    def awaiting_since_before(self, cutoff: float) -> list[str]: ...
    def month_jobs(self, month: str) -> list[Job]: ...


class NoticeBook(Protocol):
    """Throttles and one-time claims for what is said about a job."""

    def claim_progress_report(self, job: Job, interval_s: float) -> bool: ...
    def claim_completion_notice(self, job_id: str) -> bool: ...
    def claim_completion(self, job_id: str) -> Job | None: ...
    def release_completion_notice(self, job_id: str) -> None: ...
    def claim_notice(self, job_id: str, name: str) -> bool: ...
    def release_notice(self, job_id: str, name: str) -> None: ...


class PendingFacts(Protocol):
    """The outbox: facts a transition recorded as to be announced, until each is published."""

    def mark_published(self, job_id: str, fact: str) -> bool: ...
    def pending_before(self, cutoff: float) -> list[str]: ...


class JobStore(JobTransitions, FrameLedger, TileLedger, JobQueries, NoticeBook, PendingFacts, Protocol):
    """The whole job store, as the DynamoDB adapter and the fake offer it: each service takes only the part it uses."""


class TaskQueue(Protocol):
    """A render class's task queue: each task is sent with its job as its group (fair queueing by job)."""

    def send_all(self, bodies: Sequence[str], group: str) -> None: ...


class SceneStore(Protocol):
    """The scenes bucket, as submission checks it."""

    def head(self, bucket: str, key: str) -> ObjectInfo: ...
    def list_prefix(self, bucket: str, prefix: str) -> list[ObjectInfo]: ...
    def read(self, bucket: str, key: str) -> tuple[bytes, str]: ...
    def download(self, bucket: str, key: str, path: Path, etag: str | None = None) -> None: ...
    def put(self, bucket: str, key: str, body: bytes, content_type: str = "application/json") -> str: ...


class NodeLauncher(Protocol):
    """Starts GPU render nodes for a phase of a job (`backend.aws.batch.BatchNodes`)."""

    def launch(self, count: int, job_id: str) -> str | None: ...


class NodePrices(Protocol):
    """What a GPU node-second costs (`backend.aws.spot_prices.SpotPrices`)."""

    def per_second(self, instance_type: str) -> float: ...


class GuardReader(Protocol):
    """Whether the budget guard holds new renders for an admin."""

    def state(self) -> GuardState: ...


class SubmittedJobs(Protocol):
    """What submission needs of the job store: to write a new job, and a finished one's failed frames."""

    def create(self, job: Job) -> tuple[Job, bool]: ...
    def frames_at(self, job_id: str, frames: Iterable[int]) -> list[FrameRecord]: ...


class Phases(Protocol):
    """What submission needs of the fan-out (`backend.render.fanout.Fanout`): a new job's first phase, queued."""

    gpu_nodes: NodeLauncher | None

    def first_phase(
        self, frames: Sequence[int], requested_by: str, tiles_auto: bool = False
    ) -> tuple[JobStatus, tuple[int, ...], Approval | None]: ...
    def go(self, job: Job) -> Job: ...
