"""The thread reply when a render ends: what finished, what failed and why, the cost, the link to the frames."""

from __future__ import annotations

from backend.config import Costs
from backend.render.frames import compact
from backend.render.records import Job, JobStatus
from bot.messages import duration
from bot.messages.render import cost_line


def completion_reply(
    job: Job,
    failed_frames: list[int],
    outputs_link: str | None,
    failed_reasons: dict[int, str],
    costs: Costs | None = None,
) -> str:
    """The thread reply that comes with the preview pictures."""
    took = duration((job.finished_at or job.created_at) - job.created_at)
    if job.status is JobStatus.FAILED:
        text = (
            f"❌ <@{job.requested_by}> render `{job.job_id}` of `{job.scene_key}` stopped: {job.failure}. "
            f"Nothing more was rendered: fix the scene, then render it again."
        )
    elif job.status is JobStatus.EXPIRED:
        text = (
            f"⌛ <@{job.requested_by}> render `{job.job_id}` of `{job.scene_key}` expired: {job.failure}. "
            f"Nothing more was rendered: `/render {job.scene_key} {job.frames_spec}` asks again."
        )
    else:
        text = _finished_text(job, failed_frames, failed_reasons, took)
    if money_line := cost_line(job, costs or Costs()):
        text += f"\n{money_line}."
    if outputs_link:
        text += f"\n<{outputs_link}|Download the frames> (link valid 7 days)"
    return text


def _finished_text(job: Job, failed_frames: list[int], failed_reasons: dict[int, str], took: str) -> str:
    if job.status is JobStatus.DONE:
        text = f"✅ <@{job.requested_by}> all {job.total} frames of `{job.scene_key}` rendered in {took}."
    elif job.status is JobStatus.DONE_WITH_FAILURES:
        text = (
            f"⚠️ <@{job.requested_by}> {job.done} of {job.total} frames of `{job.scene_key}` rendered in {took}; "
            f"{job.failed} failed: `{compact(failed_frames)}`. Press *Retry failed* or `/render retry {job.job_id}`."
        )
        text += failure_lines(failed_reasons)
    else:
        text = f"🛑 Render `{job.job_id}` was cancelled: {job.done} of {job.total} frames were rendered."
    return text


def failure_lines(reasons: dict[int, str], most: int = 3) -> str:
    """`\n• frame 2: why` for the first few failed frames (the terminal and the stack log say it as Slack does)."""
    lines = "".join(f"\n• frame {frame}: {reason[:200]}" for frame, reason in list(reasons.items())[:most])
    more = f"\n• …and {len(reasons) - most} more" if len(reasons) > most else ""
    return lines + more
