"""The thread reply when a render ends: what finished, what failed and why, the cost, the link to the frames."""

from __future__ import annotations

from backend.config import Costs
from backend.render.records import Job, JobStatus
from bot.messages import duration, who
from bot.messages.job_facts import facts_text
from bot.messages.render import cost_line
from bot.messages.render_plan import frames_text, spec_text
from bot.messages.text import KEY_CHARS, MESSAGE_TEXT, NAME_CHARS, REASON_CHARS, clip, cut, size

REASON_LINE_CHARS = 200  # one failed frame's reason in the reply


def completion_reply(
    job: Job,
    failed_frames: list[int],
    outputs_link: str | None,
    failed_reasons: dict[int, str],
    costs: Costs | None = None,
    sync_command: str = "",
    valid_for: str = "7 days",
) -> str:
    """The thread reply that comes with the preview pictures (the link, when there is one, always whole). Past
    the zip's size the link is an index of every frame, and `sync_command` fetches them all."""
    took = duration((job.finished_at or job.created_at) - job.created_at)
    scene = clip(job.scene_key, KEY_CHARS, keep_end=True)
    failure = clip(job.failure, REASON_CHARS)
    if job.status is JobStatus.FAILED:
        text = (
            f"❌ {who(job.requested_by)} render `{job.job_id}` of `{scene}` stopped: {failure}. "
            f"Nothing more was rendered: fix the scene, then render it again."
        )
    elif job.status is JobStatus.EXPIRED:
        text = (
            f"⌛ {who(job.requested_by)} render `{job.job_id}` of `{scene}` expired: {failure}. "
            f"Nothing more was rendered: `/render {scene} {spec_text(job.frames_spec)}` asks again."
        )
    else:
        text = _finished_text(job, failed_frames, failed_reasons, took, scene)
    text += facts_text(job)
    if money_line := cost_line(job, costs or Costs()):
        text += f"\n{money_line}."
    link = f"\n<{outputs_link}|Download the frames> (link valid {valid_for})" if outputs_link else ""
    if sync_command:  # our own words: the bucket and prefix are ours, the job id too
        link = (
            f"\n<{outputs_link}|Every frame, one link each> (valid {valid_for}): too big to zip. "
            f"All at once: `{sync_command}`"
        )
    return cut(text, MESSAGE_TEXT - size(link)) + link


def _finished_text(
    job: Job, failed_frames: list[int], failed_reasons: dict[int, str], took: str, scene: str
) -> str:
    if job.status is JobStatus.DONE:
        icon = "⚠️" if job.missing_allowed else "✅"  # magenta where the missing files were: no plain success
        text = f"{icon} {who(job.requested_by)} all {job.total} frames of `{scene}` rendered in {took}."
    elif job.status is JobStatus.DONE_WITH_FAILURES:
        text = (
            f"⚠️ {who(job.requested_by)} {job.done} of {job.total} frames of `{scene}` rendered in {took}; "
            f"{job.failed} failed: `{frames_text(failed_frames)}`. Press *Retry failed* or "
            f"`/render retry {job.job_id}`."
        )
        text += failure_lines(failed_reasons)
    else:
        text = f"🛑 Render `{job.job_id}` was cancelled: {job.done} of {job.total} frames were rendered."
    return text


def outputs_text(job: Job, links: list[tuple[str, str]], total: int, valid_for: str = "7 days") -> str:
    """The *Outputs* button's answer: a link to each frame (`links`: signed URL and key), as many as fit in
    one message, then how many more there are under the job's prefix (`total` in all)."""
    where = clip(f"s3://{job.output_bucket}/{job.output_prefix}", KEY_CHARS, keep_end=True)
    heading = f"Frames of `{job.job_id}` (links valid {valid_for}):\n"
    room = MESSAGE_TEXT - size(heading) - size(f"\n…and {total:,} more under `{where}`")
    shown: list[str] = []
    for url, key in links:
        link = f"<{url}|{clip(key.rsplit('/', 1)[-1], NAME_CHARS)}>"
        if size(" · ".join([*shown, link])) > room:
            break  # signed links run long
        shown.append(link)
    more = f"\n…and {total - len(shown):,} more under `{where}`" if total > len(shown) else ""
    return heading + " · ".join(shown) + more


def failure_lines(reasons: dict[int, str], most: int = 3) -> str:
    """`\n• frame 2: why` for the first few failed frames, escaped for mrkdwn (the terminal and the stack log say
    it as Slack does: `text.plain` turns the entities back)."""
    lines = "".join(
        f"\n• frame {frame}: {clip(reason, REASON_LINE_CHARS)}"
        for frame, reason in list(reasons.items())[:most]
    )
    more = f"\n• …and {len(reasons) - most:,} more" if len(reasons) > most else ""
    return lines + more
