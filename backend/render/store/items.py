"""How a job and its frames lie in the table: keys, and items to records and back (plain data, no calls).

One table holds jobs (`pk=JOB#id, sk=JOB`), their frames (`sk=FRAME#00000042`), the last error noted for a frame
(`sk=ERROR#00000042`), a tiled frame's tiles (`sk=TILE#00000042#03`) and the claim to stitch it (`STITCH#…`). A job waiting for Submit carries `awaiting` (the key of the sparse `by_awaiting` index).
A fact to announce (`completed`, `estimated`, `approved`) is `out_<fact>` on the job until it is published, and the
job carries `outbox` (the key of the sparse `by_outbox` index) while any is. A job not yet over carries `active`, its
render class (the key of the sparse `by_active` index: where a waiting job stands in its queue).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from backend.render.estimates import Estimate
from backend.render.lifecycle import FACTS
from backend.render.records import FrameOutcome, FrameRecord, Job, JobStatus, Priority, TileRecord
from backend.render.spend import month_of
from backend.render.tasks import RenderSettings

AWAITING = "yes"  # the `awaiting` attribute's one value: the hash key of the sparse by_awaiting index
OUTBOX = "pending"  # the `outbox` attribute's one value: the hash key of the sparse by_outbox index
# A job's render class while it is not over: the hash key of the sparse by_active index.
ACTIVE_ATTRIBUTE = "active"
# When DynamoDB may delete an item (epoch seconds; the table's TimeToLiveSpecification): a job and every item of its
# history go `jobHistoryDays` after they were written. (Not `expires_at`: a workstation lease's own expiry.)
PURGE_ATTRIBUTE = "purge_at"


def outbox_set(fact: str) -> str:
    """The SET clauses that put `fact` in the job's outbox, in the same write that makes it true (`:pending`)."""
    assert fact in FACTS
    return f"out_{fact} = :now, outbox = :pending, outbox_at = if_not_exists(outbox_at, :now)"


OUTBOX_VALUES = {":pending": {"S": OUTBOX}}
ESTIMATE_SET = "est_frame_s = :frame_s, est_render_s = :render_s, est_cost_usd = :cost, est_eta_s = :eta"


def job_key(job_id: str) -> dict[str, Any]:
    """The key of a job's item."""
    return {"pk": {"S": f"JOB#{job_id}"}, "sk": {"S": "JOB"}}


def frame_sk(frame: int) -> str:
    """The sort key of a frame's record (`FRAME#00000042`: frames sort in order)."""
    return f"FRAME#{frame:08d}"


def error_sk(frame: int) -> str:
    """The sort key of the last error noted for a frame."""
    return f"ERROR#{frame:08d}"


def tile_sk(frame: int, tile: int | None) -> str:
    """The sort key of a tile's record (`TILE#00000042#03`); with no tile, the prefix of the frame's tiles."""
    return f"TILE#{frame:08d}#" + (f"{tile:02d}" if tile is not None else "")


def stitch_sk(frame: int) -> str:
    """The sort key of the claim to stitch a frame from its tiles."""
    return f"STITCH#{frame:08d}"


def estimate_values(estimate: Estimate) -> dict[str, Any]:
    """The expression values `ESTIMATE_SET` uses."""
    return {
        ":frame_s": {"N": repr(round(estimate.frame_s, 4))},
        ":render_s": {"N": repr(round(estimate.render_s, 4))},
        ":cost": {"N": repr(round(estimate.cost_usd, 6))},
        ":eta": {"N": repr(round(estimate.eta_s, 1))},
    }


def status_names(statuses: Iterable[JobStatus]) -> str:
    """`:s_queued, :s_running`: placeholders for `#status IN (…)`."""
    return ", ".join(f":s_{status}" for status in statuses)


def status_values(statuses: Iterable[JobStatus]) -> dict[str, Any]:
    """The values behind `status_names`."""
    return {f":s_{status}": {"S": status} for status in statuses}


def job_to_item(job: Job) -> dict[str, Any]:
    """A new job's item (optional attributes only when set: index keys may not be empty)."""
    item: dict[str, Any] = {
        **job_key(job.job_id),
        "job_id": {"S": job.job_id},
        "status": {"S": job.status},
        "scene_bucket": {"S": job.scene_bucket},
        "scene_key": {"S": job.scene_key},
        "scene_etag": {"S": job.scene_etag},
        "frames_spec": {"S": job.frames_spec},
        "total": {"N": str(job.total)},
        "task_count": {"N": str(job.task_count)},
        "done": {"N": str(job.done)},
        "failed": {"N": str(job.failed)},
        "remaining": {"N": str(job.remaining)},
        "settings": {"S": json.dumps(job.settings.to_dict())},
        "output_bucket": {"S": job.output_bucket},
        "output_prefix": {"S": job.output_prefix},
        "requested_by": {"S": job.requested_by},
        "created_at": {"N": repr(job.created_at)},
        "month": {
            "S": month_of(job.created_at)
        },  # the by_month index: `/render costs` reads a month in one Query
        "enqueued": {"BOOL": job.enqueued},
        "tile_counts": {"M": {}},  # tiled frames in flight (a job re-planned as tiles needs it there already)
    }
    if job.assets_prefix:
        item["assets_prefix"] = {"S": job.assets_prefix}
    if job.manifest_key:
        item["manifest_key"] = {"S": job.manifest_key}
        item["manifest_etag"] = {"S": job.manifest_etag}
        item["missing_allowed"] = {"N": str(job.missing_allowed)}
    if job.shot_version:
        item["shot_version"] = {"S": job.shot_version}
    if job.retry_of:
        item["retry_of"] = {"S": job.retry_of}
    if job.channel:  # a key of the by_channel index: DynamoDB refuses it empty
        item["channel"] = {"S": job.channel}
    if job.probe_frames:
        item["probe_frames"] = {"S": ",".join(str(frame) for frame in job.probe_frames)}
        item["probes_enqueued"] = {"BOOL": job.probes_enqueued}
    if job.approval:
        item["approval"] = {"S": job.approval}
        item["approval_reason"] = {"S": job.approval_reason}
    if job.priority is not Priority.NORMAL:
        item["priority"] = {"S": job.priority.value}
    if not job.status.is_final:  # the by_active index: the write that ends the job removes it
        item[ACTIVE_ATTRIBUTE] = {"S": job.settings.render_class}
    if job.started_at is not None:  # a job stored as it stands (the contract test's held jobs)
        item["started_at"] = {"N": repr(job.started_at)}
    if job.status is JobStatus.AWAITING_APPROVAL:
        item["awaiting"] = {"S": AWAITING}
        item["awaiting_since"] = {"N": repr(job.awaiting_since or job.created_at)}
    return item


def number(item: dict[str, Any], name: str) -> float | None:
    """A number attribute, or None when the item lacks it."""
    return float(Decimal(item[name]["N"])) if name in item else None


def job_from_item(item: dict[str, Any]) -> Job:
    """The job an item holds (items written before an attribute existed read its default)."""
    return Job(
        job_id=item["job_id"]["S"],
        status=JobStatus(item["status"]["S"]),
        scene_bucket=item["scene_bucket"]["S"],
        scene_key=item["scene_key"]["S"],
        scene_etag=item["scene_etag"]["S"],
        frames_spec=item["frames_spec"]["S"],
        total=int(item["total"]["N"]),
        task_count=int(item["task_count"]["N"]),
        settings=RenderSettings.from_dict(json.loads(item["settings"]["S"])),
        output_bucket=item["output_bucket"]["S"],
        output_prefix=item["output_prefix"]["S"],
        assets_prefix=item.get("assets_prefix", {}).get("S"),
        manifest_key=item.get("manifest_key", {}).get("S", ""),
        manifest_etag=item.get("manifest_etag", {}).get("S", ""),
        missing_allowed=int(item.get("missing_allowed", {}).get("N", "0")),
        shot_version=item.get("shot_version", {}).get("S", ""),
        requested_by=item["requested_by"]["S"],
        channel=item.get("channel", {}).get("S", ""),
        done=int(item["done"]["N"]),
        failed=int(item["failed"]["N"]),
        created_at=number(item, "created_at") or 0.0,
        started_at=number(item, "started_at"),
        finished_at=number(item, "finished_at"),
        enqueued=item.get("enqueued", {}).get("BOOL", False),
        progress_at=number(item, "progress_at"),
        retry_of=item.get("retry_of", {}).get("S", ""),
        probe_frames=tuple(
            int(part) for part in item.get("probe_frames", {}).get("S", "").split(",") if part
        ),
        probes_enqueued=item.get("probes_enqueued", {}).get("BOOL", False),
        estimate=estimate_from_item(item),
        approval=item.get("approval", {}).get("S", ""),
        approval_reason=item.get("approval_reason", {}).get("S", ""),
        awaiting_since=number(item, "awaiting_since"),
        approved_by=item.get("approved_by", {}).get("S", ""),
        approved_by_admin=item.get("approved_by_admin", {}).get("BOOL", False),
        fanned_out_at=number(item, "fanned_out_at"),
        billed_s=number(item, "billed_s") or 0.0,
        failure=item.get("failure", {}).get("S", ""),
        notified="notified_at" in item,
        awaiting="awaiting" in item,
        outbox=tuple(fact for fact in FACTS if f"out_{fact}" in item),
        tile_counts={
            int(frame): int(count["N"]) for frame, count in item.get("tile_counts", {}).get("M", {}).items()
        },
        replanned=item.get("replanned", {}).get("S", ""),
        predicted_s=number(item, "predicted_s") or 0.0,
        device=item.get("device", {}).get("S", ""),
        preview_layer=item.get("preview_layer", {}).get("S", ""),
        untaken_s=number(item, "untaken_s") or 0.0,
        priority=Priority(item.get("priority", {}).get("S", Priority.NORMAL.value)),
        held_by=item.get("held_by", {}).get("S", ""),
        held_at=number(item, "held_at"),
        generation=int(item.get("generation", {}).get("N", "0")),
        fps=item.get("scene_fps", {}).get("S", ""),
    )


def estimate_from_item(item: dict[str, Any]) -> Estimate | None:
    """The probes' estimate on a job item, if it has one."""
    if "est_cost_usd" not in item:
        return None
    return Estimate(
        frame_s=number(item, "est_frame_s") or 0.0,
        render_s=number(item, "est_render_s") or 0.0,
        cost_usd=number(item, "est_cost_usd") or 0.0,
        eta_s=number(item, "est_eta_s") or 0.0,
    )


def frame_from_item(item: dict[str, Any]) -> FrameRecord:
    """The frame record an item holds."""
    return FrameRecord(
        frame=int(item["frame"]["N"]),
        outcome=FrameOutcome(item["outcome"]["S"]),
        seconds=float(item["seconds"]["N"]),
        output_key=item["output_key"]["S"],
        error=item["error"]["S"],
        billed_s=number(item, "billed_s") or 0.0,
        stopped_s=number(item, "stopped_s") or 0.0,
    )


def tile_from_item(item: dict[str, Any]) -> TileRecord:
    """The tile record an item holds."""
    return TileRecord(
        tile=int(item["tile"]["N"]),
        outcome=FrameOutcome(item["outcome"]["S"]),
        seconds=float(item["seconds"]["N"]),
        billed_s=number(item, "billed_s") or 0.0,
        output_key=item["output_key"]["S"],
        proxy_key=item.get("proxy_key", {}).get("S", ""),
        cut=item.get("cut", {}).get("S", ""),
        error=item["error"]["S"],
    )
