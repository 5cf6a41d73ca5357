"""Typed, versioned events published on the studio-events SNS topic: `{"type": ..., "version": 1, ...}`."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Protocol

EVENT_VERSION = 1


@dataclass(frozen=True)
class Event:
    """Base of every event; `type` names the subclass on the wire."""

    type: ClassVar[str] = "Event"

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "version": EVENT_VERSION, **asdict(self)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"), sort_keys=True)


@dataclass(frozen=True)
class JobProgress(Event):
    """A render job moved on (published at most once per progress interval per job)."""

    type: ClassVar[str] = "JobProgress"
    job_id: str
    scene_key: str
    done: int
    failed: int
    total: int
    requested_by: str = ""
    channel: str = ""


@dataclass(frozen=True)
class JobCompleted(Event):
    """A render job reached its final state; published exactly once per job."""

    type: ClassVar[str] = "JobCompleted"
    job_id: str
    status: str
    scene_key: str
    done: int
    failed: int
    total: int
    failed_frames: list[int] = field(default_factory=list)
    output_bucket: str = ""
    output_prefix: str = ""
    created_at: float = 0.0
    finished_at: float = 0.0
    requested_by: str = ""
    channel: str = ""
    missing_allowed: int = 0  # files the shot lacks that it rendered without (`--allow-missing`)


@dataclass(frozen=True)
class SessionExpiring(Event):
    """A running workstation session lapses soon: its owner can extend it or stop it now."""

    type: ClassVar[str] = "SessionExpiring"
    name: str
    owner: str
    expires_at: float
    keepalive: bool = False


@dataclass(frozen=True)
class SessionStopped(Event):
    """A workstation was stopped by studiobot (lease expired, keep-alive run) rather than by its owner."""

    type: ClassVar[str] = "SessionStopped"
    name: str
    owner: str
    reason: str


@dataclass(frozen=True)
class SessionKept(Event):
    """A lapsed session kept, someone may use it: owner asked, ops told; `stop_at` 0: never stopped alone."""

    type: ClassVar[str] = "SessionKept"
    name: str
    owner: str
    lapsed_at: float
    use: str  # backend.workstations.presence.Use: active | idle | unknown
    users: list[str] = field(default_factory=list)
    since: float = 0.0  # when the earliest connection began (0: not told)
    idle_s: float = -1.0  # since the last input (-1: not told)
    why: str = ""  # why it is unknown
    stop_at: float = 0.0


@dataclass(frozen=True)
class SessionExtended(Event):
    """A kept-alive workstation's lapsing session was extended instead of stopped."""

    type: ClassVar[str] = "SessionExtended"
    name: str
    owner: str
    expires_at: float
    reason: str


@dataclass(frozen=True)
class KeepAliveReport(Event):
    """What the daily keep-alive run did: which sessions it cycled, which it left running, what failed."""

    type: ClassVar[str] = "KeepAliveReport"
    started: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    left_running: list[str] = field(default_factory=list)
    error: str = ""
    left_because: dict[str, str] = field(default_factory=dict)  # name → what its workstation said


@dataclass(frozen=True)
class WorkstationAlert(Event):
    """EC2 said something about a workstation: a spot interruption warning, or a change of state."""

    type: ClassVar[str] = "WorkstationAlert"
    name: str
    owner: str
    kind: str  # "spot-interruption" or "state-change"
    state: str = ""


@dataclass(frozen=True)
class JobEstimated(Event):
    """A job's probes rendered: its cost and time, and who must Submit it (`approval`: "", submitter or admin)."""

    type: ClassVar[str] = "JobEstimated"
    job_id: str
    estimated_cost_usd: float
    estimated_eta_s: float
    approval: str = ""
    reason: str = ""
    requested_by: str = ""
    channel: str = ""


@dataclass(frozen=True)
class FrameStopped(Event):
    """A frame outran the render function's time: the watchdog stopped it and recorded it failed; told at once."""

    type: ClassVar[str] = "FrameStopped"
    job_id: str
    frame: int
    ran_s: float
    limit_s: float
    margin_s: float = 0.0  # kept before the limit to record the frame and tell the channel
    requested_by: str = ""
    channel: str = ""
    tile: str = ""  # `tile 6 of 16 (row 2, column 2)` when it was one tile of the frame


@dataclass(frozen=True)
class NodeReclaimed(Event):
    """A node reclaimed (Spot) or stopped (SIGTERM) mid-task handed its task back; the thread hears once."""

    type: ClassVar[str] = "NodeReclaimed"
    node: str
    render_class: str
    reason: str  # "Spot" | "SIGTERM"
    job_id: str
    frames: list[int] = field(default_factory=list)
    tile: int = -1
    channel: str = ""


@dataclass(frozen=True)
class NodeBlocked(Event):
    """A node failed 3 of a job's tasks and takes no more (the job's blocklist): published once per node."""

    type: ClassVar[str] = "NodeBlocked"
    node: str
    render_class: str
    job_id: str
    error: str = ""  # its last failure's words
    blocked: list[str] = field(default_factory=list)  # every node on the job's blocklist now
    channel: str = ""


@dataclass(frozen=True)
class NodesNotStarted(Event):
    """AWS Batch cancelled a phase's GPU nodes left RUNNABLE past the limit: the thread hears why, once per job."""

    type: ClassVar[str] = "NodesNotStarted"
    job_id: str
    batch_job_id: str
    waited_s: float


@dataclass(frozen=True)
class JobApproved(Event):
    """Someone pressed Submit on a job that waited for it: its frames go on."""

    type: ClassVar[str] = "JobApproved"
    job_id: str
    by: str
    requested_by: str = ""
    channel: str = ""


@dataclass(frozen=True)
class BudgetAlert(Event):
    """AWS Budgets said a budget crossed one of its thresholds (actual or forecasted spend)."""

    type: ClassVar[str] = "BudgetAlert"
    budget_name: str
    alert_type: str  # "ACTUAL" or "FORECASTED"
    threshold_usd: float
    amount_usd: float  # the actual (or forecasted) spend that crossed it
    limit_usd: float


@dataclass(frozen=True)
class BudgetGuardChanged(Event):
    """The over-budget guard went on (new renders need an admin's approval) or off."""

    type: ClassVar[str] = "BudgetGuardChanged"
    on: bool
    by: str  # a Slack user id, or "AWS Budgets"
    reason: str = ""
    action: str = ""  # `budget_action` as it went on by itself ("": it only asks for an admin's approval)
    held: list[str] = field(default_factory=list)  # the jobs it held (stop-and-finish), oldest first
    cancelled: list[str] = field(default_factory=list)  # the jobs it cancelled (stop-and-cancel)


@dataclass(frozen=True)
class MovieRequested(Event):
    """`/render movie JOB` was asked (and checked): the notifier makes the movie and posts it in the job's thread,
    once per asking (`request_id`) however often SNS delivers it."""

    type: ClassVar[str] = "MovieRequested"
    job_id: str
    request_id: str
    by: str
    channel: str = ""  # where it was asked: the movie goes there when the job has no card
    fps: str = ""  # `24000/1001` ("": the scene's)
    frames: str = ""  # `1-48` ("": all the job's)
    retries: list[str] = field(
        default_factory=list
    )  # the job's retries, oldest first: their frames fill its gaps


class EventPublisher(Protocol):
    """Where events go: the studio-events topic (`backend.aws.sns.SnsPublisher`), or a test's recorder."""

    def publish(self, event: Event) -> None: ...
