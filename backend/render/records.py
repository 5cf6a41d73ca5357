"""What a render job and its frames look like (plain data, no AWS): `backend.render.store` owns their transitions."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum

from backend.render.estimates import Estimate
from backend.render.tasks import RenderSettings

BLOCK_AFTER = 3  # failed tasks of one job after which a render node takes no more of them (its blocklist)


class JobStatus(StrEnum):
    QUEUED = "queued"
    PROBING = "probing"  # its probe frames render first; nothing else is queued yet
    AWAITING_APPROVAL = "awaiting_approval"  # waits for someone to press Submit (or expires)
    RUNNING = "running"
    DONE = "done"
    DONE_WITH_FAILURES = "done_with_failures"
    CANCELLED = "cancelled"
    FAILED = "failed"  # a probe frame failed: nothing more was rendered
    EXPIRED = "expired"  # nobody pressed Submit in time
    HELD = "held"  # someone (or the budget guard) holds it: it takes no new frames until resumed

    @property
    def is_final(self) -> bool:
        return self in FINAL


FINAL = (
    JobStatus.DONE,
    JobStatus.DONE_WITH_FAILURES,
    JobStatus.CANCELLED,
    JobStatus.FAILED,
    JobStatus.EXPIRED,
)
ACTIVE = (
    JobStatus.QUEUED,
    JobStatus.PROBING,
    JobStatus.AWAITING_APPROVAL,
    JobStatus.RUNNING,
    JobStatus.HELD,
)


class Priority(StrEnum):
    """Which lane a job's tasks wait in: every urgent task is taken before a normal one, a low one last."""

    URGENT = "urgent"
    NORMAL = "normal"
    LOW = "low"

    @property
    def rank(self) -> int:
        """0 for urgent, 1 normal, 2 low: the order the lanes are served in."""
        return list(Priority).index(self)


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
    manifest_key: str = ""  # the shot's manifest beside the scene: every file the scene uses
    manifest_etag: str = ""  # the version of it the job renders with
    shot_version: str = ""  # `RenderPlan.shot_version`: the scene's, manifest's and support files' versions
    missing_allowed: int = 0  # files the manifest lists as missing, rendered without on purpose
    requested_by: str = ""
    channel: str = ""
    done: int = 0
    failed: int = 0
    created_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    enqueued: bool = False
    progress_at: float | None = None
    retry_of: str = ""
    probe_frames: tuple[int, ...] = ()  # rendered first (jobs over the probe threshold), then the estimate
    probes_enqueued: bool = False
    estimate: Estimate | None = None
    approval: str = ""  # who must press Submit: "submitter" | "admin" ("" while nobody needs to)
    approval_reason: str = ""
    awaiting_since: float | None = None
    approved_by: str = ""
    approved_by_admin: bool = False
    fanned_out_at: float | None = None  # when the frames after the probes (or all of them) were queued
    billed_s: float = 0.0  # the render function's billed seconds so far
    failure: str = ""  # why a job FAILED or EXPIRED
    notified: bool = False  # its end was announced
    awaiting: bool = False  # in the by_awaiting index (waiting for Submit, or expired and not yet announced)
    outbox: tuple[
        str, ...
    ] = ()  # facts made true and not yet published ("completed", "estimated", "approved")
    tile_counts: dict[int, int] = field(default_factory=dict)  # tiled frames in flight: tiles recorded so far
    replanned: str = ""  # why the probes re-planned the job as tiles ("" when they did not)
    predicted_s: float = 0.0  # a whole frame's render seconds, extrapolated by the probe that re-planned it
    device: str = ""  # what rendered its first frame: `GPU · OptiX · NVIDIA L4`, `CPU (no GPU device found…)`
    preview_layer: str = ""  # the view layer a multilayer EXR job's previews show ("" when not multilayer)
    untaken_s: float = 0.0  # a gpu job no node had taken after this long, as the sweep told it (0: not told)
    priority: Priority = Priority.NORMAL  # the lane its tasks wait in
    held_by: str = ""  # who holds it ("" while it is not held): it takes no new frames until resumed
    held_at: float | None = None
    generation: int = (
        0  # tasks sent before the last hold, resume or re-prioritising carry an older one: dropped
    )
    fps: str = (
        ""  # the scene's frame rate as its renderer read it (`24`, `23.976`; "" before a frame rendered)
    )

    @property
    def remaining(self) -> int:
        return self.total - self.done - self.failed


@dataclass(frozen=True)
class FrameRecord:
    """What happened to one frame."""

    frame: int
    outcome: FrameOutcome
    seconds: float = 0.0  # Blender's render time
    output_key: str = ""
    error: str = ""
    billed_s: float = 0.0  # the handler's time for this frame (download, render, upload): what Lambda bills
    tiled: bool = False  # stitched from tiles (or failed by one): its tile count leaves the job's card
    # What the record adds to the job's billed time when that is not `billed_s` (the frame's cost as estimates
    # read it): a stitched frame adds only the stitch (its tiles added theirs), a probe also its measuring pass.
    job_billed_s: float | None = None
    stopped_s: float = 0.0  # the watchdog stopped it after this long whole (0: it was not stopped)


@dataclass(frozen=True)
class TileRecord:
    """What happened to one tile of a frame; recorded once, like a frame."""

    tile: int
    outcome: FrameOutcome
    seconds: float = 0.0
    billed_s: float = 0.0
    output_key: str = ""  # the tile in the outputs bucket, until its frame is stitched
    proxy_key: str = ""  # its 8-bit picture through the view transform (EXR tiles), if any
    cut: str = ""  # `Cut.to_text()`: the frame's size, grid and overscan the tile was rendered with
    error: str = ""


@dataclass(frozen=True)
class TileRecorded:
    """Result of recording a tile: whether this call counted it, and the job afterwards."""

    counted: bool
    job: Job = field(repr=False)


@dataclass(frozen=True)
class Recorded:
    """Result of recording a frame: whether this call counted it, and the job's counters afterwards."""

    counted: bool
    job: Job = field(repr=False)


def job_id_for(client_token: str) -> str:
    """A short job id derived from the client token, so a resubmission finds the same job."""
    return "r" + hashlib.sha256(client_token.encode()).hexdigest()[:9]
