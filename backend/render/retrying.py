"""A retry's settings: a frame the watchdog stopped is never rendered the same way again (pure, no AWS)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from backend.errors import ConflictError
from backend.render.frames import compact
from backend.render.grammar import RenderRequest, RetryRequest
from backend.render.records import FrameRecord, Job, JobStatus
from backend.render.tasks import RenderSettings


def check_retryable(job: Job, failed_frames: Sequence[int]) -> None:
    """ConflictError unless the job finished with failed frames."""
    if job.status is not JobStatus.DONE_WITH_FAILURES or not failed_frames:
        state = str(job.status).replace("_", " ")
        raise ConflictError(
            f"Job `{job.job_id}` is {state}: only a job that finished with failed frames can be retried."
        )


def retry_request(job: Job, failed: Sequence[FrameRecord], changes: RetryRequest | None) -> RenderRequest:
    """What the retry job renders: the failed frames, with `retry_settings`."""
    frames = sorted(record.frame for record in failed)
    return RenderRequest(
        scene=job.scene_key,
        frames=compact(frames),
        frame_list=tuple(frames),
        settings=retry_settings(job.settings, failed, changes),
        assets_prefix=job.assets_prefix,
        allow_missing=job.missing_allowed > 0,
        priority=job.priority,  # a retry waits in its job's lane
    )


def retry_settings(
    settings: RenderSettings, failed: Sequence[FrameRecord], changes: RetryRequest | None = None
) -> RenderSettings:
    """The first job's settings with the person's changes; where a failed frame was stopped at the time limit
    and nothing asked makes it lighter, the retry probes it and renders it as tiles (`--tiles auto`), planned
    from a small look and never for less than the stop measured."""
    changes = changes or RetryRequest(job_id="")
    settings = dataclasses.replace(
        settings,
        samples=changes.samples or settings.samples,
        resolution=changes.resolution or settings.resolution,
        at_least_s=0.0,
    )
    if changes.tiles:
        return dataclasses.replace(settings, tiles=changes.tiles, tiles_auto=False, chunk=1)
    stopped_s = max((record.stopped_s for record in failed), default=0.0)
    lighter = changes.samples or changes.resolution
    if changes.tiles_auto or stopped_s:  # a stopped tile: its frame is planned again, with more tiles
        return dataclasses.replace(
            settings, tiles=None, tiles_auto=True, chunk=1, at_least_s=0.0 if lighter else stopped_s
        )
    return settings


def retry_token(job_id: str, changes: RetryRequest | None) -> str:
    """The retry job's client token: asking again the same way returns the same job; other changes, another."""
    if changes is None or not changes.changes:
        return f"retry:{job_id}"
    tiles = "auto" if changes.tiles_auto else "x".join(map(str, changes.tiles or ()))
    resolution = "x".join(map(str, changes.resolution or ()))
    return f"retry:{job_id}:{tiles}:{changes.samples or ''}:{resolution}"
