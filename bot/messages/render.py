"""Render jobs in words: the help, the job card, `/render status` and `list`, the thread replies, and each
job event as a line for the channel or the terminal (the "Render this scene" modal is in `render_modal.py`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from backend.config import Costs
from backend.events import FrameStopped, JobApproved, JobCompleted, JobEstimated, JobProgress
from backend.render.estimates import lambda_cost
from backend.render.records import Job, JobStatus
from bot.messages import Blocks, context, duration, money, plain_text, section, who
from bot.messages.job_facts import facts_lines, facts_text
from bot.messages.nodes import untaken_text
from bot.messages.pages import packed
from bot.messages.render_plan import frames_text, settings_text, spec_text
from bot.messages.render_stopped import stopped_text
from bot.messages.text import (
    CONFIRM_TEXT,
    KEY_CHARS,
    MESSAGE_TEXT,
    NAME_CHARS,
    REASON_CHARS,
    clip,
    cut,
    is_user_id,
    short_id,
)

STATUS_LABEL = {
    JobStatus.QUEUED: "⏳ Queued",
    JobStatus.RUNNING: "🎬 Rendering",
    JobStatus.DONE: "✅ Done",
    JobStatus.DONE_WITH_FAILURES: "⚠️ Done with failures",
    JobStatus.CANCELLED: "🛑 Cancelled",
    JobStatus.PROBING: "🔍 Probing",
    JobStatus.AWAITING_APPROVAL: "✋ Waiting for Submit",
    JobStatus.FAILED: "❌ Stopped",
    JobStatus.EXPIRED: "⌛ Expired",
    JobStatus.HELD: "⏸ Held",
}

HELP = (
    "*Render a Blender scene on the farm*\n"
    "`/render SCENE FRAMES [options]` e.g. `/render shot010/shot.blend 1-240 --res 1920x1080 --samples 64`\n"
    "• FRAMES: `42`, `1-240`, `1-240x2` (every 2nd), `1,5,10-20`\n"
    "• `--res WxH` `--samples N` `--engine CYCLES|BLENDER_WORKBENCH|BLENDER_EEVEE` "
    "`--format PNG|JPEG|OPEN_EXR|OPEN_EXR_MULTILAYER` (default: the scene's) `--chunk N` (frames per task) `--assets PREFIX` (textures, caches) "
    "`--priority urgent|low` (urgent jobs' frames go first, low ones' when nothing else waits) "
    "`--blender 4.5|5.0` (default: the Blender that saved the shot, or the nearest newer the farm has) "
    "`--allow-missing` (render a shot whose manifest lists missing files) "
    "`--dry-run` (check and show the plan, render nothing)\n"
    "• A shot shipped with `studiobot upload` carries every file it uses; one with missing files is refused\n"
    "`/render status [JOB]` · `/render list` · `/render cancel JOB` · `/render retry JOB` (failed frames only) · "
    "`/render submit JOB` (a job waiting for Submit) · `/render hold|resume JOB` · `/render priority JOB urgent|normal|low` · `/render help`\n"
    "`/render costs [--month YYYY-MM] [--by user|channel|shot|class]` (who spent what in a month)\n"
    "`/render movie JOB [--fps N] [--frames SPEC]` (its dailies movie again, in its thread)\n"
)

EVENTS = (JobProgress, JobCompleted, JobEstimated, JobApproved, FrameStopped)
LIST_JOBS = 15  # `/render list`: the store keeps a channel's 20 most recent at hand
LIST_KEY_CHARS = 120


def _guardrails(costs: Costs) -> str:
    return (
        f"Jobs over {costs.probe_over_frames} frames render their first, middle and last frames first: the card then "
        f"shows what the whole job will cost and take. Over {money(costs.confirm_over_usd)} the job waits for its "
        f"submitter's *Submit*, over {money(costs.admin_over_usd)} for an admin's."
    )


def help_message(costs: Costs | None = None) -> tuple[str, Blocks]:
    """`/render help`: the grammar, and when a job waits for a probe or a Submit."""
    text = HELP + _guardrails(costs or Costs())
    return text, [section(text)]


def progress_bar(done: int, total: int, width: int = 10) -> str:
    """`▰▰▰▰▱▱▱▱▱▱ 120/240`."""
    filled = 0 if total <= 0 else round(width * done / total)
    if 0 < done < total:
        filled = min(max(filled, 1), width - 1)  # started shows a block; unfinished never looks full
    return f"{'▰' * filled}{'▱' * (width - filled)} {done}/{total}"


def eta(job: Job, now: float) -> str:
    """Time left: at the pace since the frames were queued once some have finished, before that the estimate's."""
    if job.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
        return ""
    since = job.fanned_out_at or job.started_at
    finished = job.done + job.failed - len(job.probe_frames)  # the probes finished before the fan-out
    if since is not None and finished > 0:
        return duration((now - since) / finished * job.remaining)
    if job.estimate is not None:
        return "about " + duration(max(0.0, job.estimate.eta_s - (now - (since or now))))
    return ""


def cost_line(job: Job, costs: Costs) -> str:
    """`Estimate $2.40 · cost so far $0.31` (or the measured cost alone, for a job nobody estimated)."""
    parts = []
    if job.estimate is not None:
        parts.append(f"estimate {money(job.estimate.cost_usd)}")
    if job.billed_s > 0:
        spent = money(lambda_cost(job.billed_s, job.done + job.failed, costs))
        parts.append(f"cost {spent}" if job.status.is_final else f"cost so far {spent}")
    return _sentence(" · ".join(parts))


def _button(
    action_id: str, label: str, value: str, style: str = "", confirm: dict[str, Any] | None = None
) -> dict[str, Any]:
    button: dict[str, Any] = {"type": "button", "action_id": action_id, "text": plain_text(label)}
    if style:
        button["style"] = style
    button["value"] = value
    if confirm:
        button["confirm"] = confirm
    return button


def _confirm(title: str, text: str, confirm: str, deny: str) -> dict[str, Any]:
    return {
        "title": plain_text(title),
        "text": {"type": "mrkdwn", "text": cut(text, CONFIRM_TEXT)},
        "confirm": plain_text(confirm),
        "deny": plain_text(deny),
    }


def job_card(job: Job, now: float, costs: Costs | None = None) -> tuple[str, Blocks]:
    """The job card in the channel: who, what, progress, cost, and the buttons; updated in place."""
    finished = job.done + job.failed
    label = STATUS_LABEL[job.status]
    scene, spec = clip(job.scene_key, KEY_CHARS, keep_end=True), spec_text(job.frames_spec)
    text = f"{label} `{job.job_id}`: {scene} frames {spec} ({finished}/{job.total})"
    end = job.finished_at if job.status.is_final and job.finished_at else now
    timing = f"elapsed {duration(end - job.created_at)}"
    if remaining := eta(job, now):
        timing += f" · ETA {remaining}"
    if money_line := cost_line(job, costs or Costs()):
        timing += f"\n{money_line}"
    counts = f"{job.done} done" + (f" · {job.failed} failed" if job.failed else "")
    retry_note = f" · retry of `{clip(job.retry_of, NAME_CHARS)}`" if job.retry_of else ""
    blocks: Blocks = [
        section(f"*{label}* · `{scene}` · frames `{spec}` · by {who(job.requested_by)}{retry_note}"),
        section(f"`{progress_bar(finished, job.total)}`  {counts}\n{timing}"),
    ]
    if note := _phase_note(job, now, costs or Costs()):
        blocks.append(section(note))
    if waiting := untaken_line(job):
        blocks.append(section(waiting))
    blocks.extend(context(fact) for fact in facts_lines(job, in_flight=True))
    blocks.append(context(f"Job `{job.job_id}` · {settings_text(job.settings)}"))
    buttons = []
    if job.status is JobStatus.AWAITING_APPROVAL:
        whose = "an admin" if job.approval == "admin" else f"{who(job.requested_by)} or an admin"
        ask = f"{_sentence(clip(job.approval_reason, CONFIRM_TEXT // 2))}. Only {whose} can submit it."
        sure = _confirm("Render the whole job?", ask, "Submit", "Not yet")
        buttons.append(_button("job_submit", "Submit", job.job_id, "primary", sure))
    if not job.status.is_final:
        skipped = f"Frames not yet rendered in `{job.job_id}` will be skipped."
        sure = _confirm("Cancel this render?", skipped, "Cancel render", "Keep rendering")
        buttons.append(_button("job_cancel", "Cancel", job.job_id, "danger", sure))
    if job.status is JobStatus.DONE_WITH_FAILURES:
        buttons.append(_button("job_retry", "Retry failed", job.job_id))
    if job.done:
        buttons.append(_button("job_outputs", "Outputs", job.job_id))
    if buttons:
        blocks.append({"type": "actions", "block_id": short_id("job:", job.job_id), "elements": buttons})
    return text, blocks


def _phase_note(job: Job, now: float, costs: Costs) -> str:
    """What the job is doing between phases, or why it ended early."""
    if job.status is JobStatus.PROBING:
        frames = ", ".join(str(frame) for frame in job.probe_frames)
        return f"🔍 Rendering frames {frames} first, to see what the whole job will cost and take."
    if job.status is JobStatus.AWAITING_APPROVAL:
        whose = "an admin" if job.approval == "admin" else f"{who(job.requested_by)} (or an admin)"
        expires = (job.awaiting_since or now) + costs.confirm_expiry_s
        # Slack shows the time in each reader's own zone; the card is not updated while it waits
        fallback = datetime.fromtimestamp(expires, UTC).strftime("%H:%M UTC")
        what = ""
        if job.estimate is not None:
            what = f"The rest takes about {duration(job.estimate.eta_s)}, {costs.concurrency:,} renders at a time. "
        return (
            f"✋ Waiting for {whose} to press *Submit*: {clip(job.approval_reason, REASON_CHARS)}. {what}"
            f"Expires at <!date^{int(expires)}^{{time}}|{fallback}> if nobody does."
        )
    if job.status in (JobStatus.FAILED, JobStatus.EXPIRED) and job.failure:
        mark = "❌" if job.status is JobStatus.FAILED else "⌛"
        return f"{mark} {_sentence(clip(job.failure, REASON_CHARS))}. Nothing more was rendered."
    return ""


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def status_message(job: Job, now: float, costs: Costs | None = None) -> tuple[str, Blocks]:
    """`/render status JOB`: the card's content, sent to the asker only; its text (what the terminal prints) with
    the job's facts too."""
    text, blocks = job_card(job, now, costs)
    return text + facts_text(job), blocks


def approval_request(job: Job, admins: frozenset[str]) -> str:
    """The thread reply when a job's estimate needs someone's Submit."""
    cost = f"{money(job.estimate.cost_usd)} and about {duration(job.estimate.eta_s)}" if job.estimate else ""
    if job.approval == "admin":
        named = " ".join(who(admin) for admin in sorted(admins)) or "An admin (none is set: STUDIOBOT_ADMINS)"
        ask = f"{named}: `{job.job_id}` by {who(job.requested_by)} needs an admin's *Submit*"
    else:
        ask = f"{who(job.requested_by)}: `{job.job_id}` waits for your *Submit*"
    estimate = f" The whole job: {cost}." if cost else ""
    reason = clip(job.approval_reason, REASON_CHARS)
    then = f"Press *Submit* on the card, or `/render submit {job.job_id}`."
    return f"{cut(f'✋ {ask} ({reason}).{estimate}', MESSAGE_TEXT - len(then) - 1)} {then}"


def approved_note(job: Job, by: str) -> str:
    """The thread reply when someone pressed Submit."""
    if job.status is JobStatus.PROBING:
        return f"▶️ {who(by)} submitted `{job.job_id}`: its probe frames render first."
    return f"▶️ {who(by)} submitted `{job.job_id}`: {job.remaining:,} frames are on their way."


def job_list(jobs: list[Job], user_id: str, now: float) -> tuple[str, Blocks]:
    """`/render list`: the channel's recent jobs, the asker's first (the store keeps the 20 most recent at hand)."""
    if not jobs:
        text = "No renders in this channel yet: try `/render help`."
        return text, [section(text)]
    ordered = sorted(jobs, key=lambda job: (job.requested_by != user_id, -job.created_at))
    lines = []
    for job in ordered[:LIST_JOBS]:
        finished = job.done + job.failed
        scene = clip(job.scene_key, LIST_KEY_CHARS, keep_end=True)
        lines.append(
            f"`{job.job_id}` {STATUS_LABEL[job.status]} · `{scene}` `{spec_text(job.frames_spec, 60)}` · "
            f"{finished}/{job.total} · {who(job.requested_by)} · {duration(now - job.created_at)} ago"
        )
    heading = "Recent renders in this channel:"
    blocks = [section(part) for part in packed([heading, *lines])]
    if len(ordered) > LIST_JOBS:
        more = len(ordered) - LIST_JOBS
        blocks.append(context(f"…and {more} older: `/render status JOB` shows any job by its id."))
    return cut("\n".join([heading, *lines]), MESSAGE_TEXT), blocks


def event_text(event: JobProgress | JobCompleted | JobEstimated | JobApproved | FrameStopped) -> str:
    """A job event as one line for the channel or the terminal."""
    if isinstance(event, FrameStopped):
        return stopped_text(event)
    if isinstance(event, JobProgress):
        failed = f", {event.failed} failed" if event.failed else ""
        scene = clip(event.scene_key, KEY_CHARS, keep_end=True)
        return f"⏳ Render `{event.job_id}` ({scene}): {progress_bar(event.done + event.failed, event.total)}{failed}"
    if isinstance(event, JobCompleted):
        return _completed(event)
    if isinstance(event, JobEstimated):
        cost = f"{money(event.estimated_cost_usd)}, about {duration(event.estimated_eta_s)} more"
        if not event.approval:
            return f"🔍 Render `{event.job_id}`: probe frames rendered; the whole job: {cost}. Rendering the rest."
        whose = "an admin's" if event.approval == "admin" else f"{who(event.requested_by)}'s (or an admin's)"
        return (
            f"✋ Render `{event.job_id}`: the whole job: {cost}. It waits for {whose} Submit "
            f"({clip(event.reason, REASON_CHARS)}): `/render submit {event.job_id}`."
        )
    return f"▶️ Render `{event.job_id}` submitted by {who(event.by)}."


def _completed(event: JobCompleted) -> str:
    took = duration(event.finished_at - event.created_at) if event.finished_at and event.created_at else ""
    whom = f" for <@{event.requested_by}>" if is_user_id(event.requested_by) else ""
    outputs = clip(f"s3://{event.output_bucket}/{event.output_prefix}", KEY_CHARS, keep_end=True)
    scene = clip(event.scene_key, KEY_CHARS, keep_end=True)
    if event.status == "done":
        frames = "the frame" if event.total == 1 else f"all {event.total} frames"
        files = "file" if event.missing_allowed == 1 else "files"
        icon, without = (
            ("⚠️", f", without {event.missing_allowed} missing {files}")
            if event.missing_allowed
            else ("✅", "")
        )
        return (
            f"{icon} Render `{event.job_id}`{whom} finished: {frames} of `{scene}` in {took}{without}. "
            f"Outputs: {outputs}"
        )
    if event.status == "done_with_failures":
        failed = frames_text(event.failed_frames) or str(event.failed)
        return (
            f"⚠️ Render `{event.job_id}`{whom} finished with {event.failed} failed frame"
            f"{'s' if event.failed != 1 else ''} ({failed}): {event.done} of {event.total} frames of "
            f"`{scene}` rendered in {took}. `/render retry {event.job_id}` renders the failed ones again. "
            f"Outputs: {outputs}"
        )
    if event.status in ("failed", "expired"):
        frames = frames_text(event.failed_frames) or "a probe frame"
        what = (
            f"stopped: probe frame {frames} failed"
            if event.status == "failed"
            else "expired: nobody pressed Submit"
        )
        return f"❌ Render `{event.job_id}`{whom} of `{scene}` {what}. Nothing more was rendered."
    if event.status == "cancelled":
        return (
            f"🛑 Render `{event.job_id}`{whom} was cancelled: {event.done} of {event.total} frames of "
            f"`{scene}` were rendered. Outputs: {outputs}"
        )
    return f"Render `{event.job_id}` ended: {clip(event.status, NAME_CHARS)}."


def untaken_line(job: Job) -> str:
    """The card's line while a job the sweep found untaken still waits; "" once a node takes a frame."""
    waiting = job.started_at is None and job.done + job.failed == 0 and not job.status.is_final
    return untaken_text(job.job_id, job.untaken_s) if job.untaken_s and waiting else ""
