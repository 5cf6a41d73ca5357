"""What a render job and its frames look like (plain data, no AWS): `backend.jobs` owns their transitions."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from backend.tasks import RenderSettings


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    DONE_WITH_FAILURES = "done_with_failures"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in (JobStatus.DONE, JobStatus.DONE_WITH_FAILURES, JobStatus.CANCELLED)


ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


class FrameOutcome(StrEnum):
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class Job:
    """A render job as stored."""

    job_id: str
    status: JobStatus
    scene_bucket: str
    scene_key: str
    scene_etag: str
    frames_spec: str
    total: int
    task_count: int
    settings: RenderSettings
    output_bucket: str
    output_prefix: str
    assets_prefix: str | None = None
    requested_by: str = ""
    channel: str = ""
    done: int = 0
    failed: int = 0
    created_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    enqueued: bool = False
    progress_at: float | None = None
    card_channel: str = ""
    card_ts: str = ""
    card_updated_at: float | None = None
    retry_of: str = ""

    @property
    def remaining(self) -> int:
        return self.total - self.done - self.failed


@dataclass(frozen=True)
class FrameRecord:
    """What happened to one frame."""

    frame: int
    outcome: FrameOutcome
    seconds: float = 0.0
    output_key: str = ""
    error: str = ""


@dataclass(frozen=True)
class Recorded:
    """Result of recording a frame: whether this call counted it, and the job's counters afterwards."""

    counted: bool
    job: Job = field(repr=False)
