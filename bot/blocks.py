"""Every Slack message studiobot sends, built in one place: text fallbacks and Block Kit blocks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from backend.config import Costs
from backend.events import BudgetAlert, BudgetGuardChanged
from backend.notify import budget_alert_text, dollars, duration, guard_changed_text, progress_bar, who
from backend.render.estimates import lambda_cost, money
from backend.render.records import Job, JobStatus

if TYPE_CHECKING:  # the ack path imports this module: nothing here may pull in boto3
    from backend.budgets.guard import GuardState
    from backend.budgets.service import BudgetStatus

Blocks = list[dict[str, Any]]

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
}

HELP = (
    "*Render a Blender scene on the farm*\n"
    "`/render SCENE FRAMES [options]` e.g. `/render shot010/shot.blend 1-240 --res 1920x1080 --samples 64`\n"
    "• FRAMES: `42`, `1-240`, `1-240x2` (every 2nd), `1,5,10-20`\n"
    "• `--res WxH` `--samples N` `--engine CYCLES|BLENDER_WORKBENCH|BLENDER_EEVEE` "
    "`--format PNG|JPEG|OPEN_EXR` `--chunk N` (frames per task) `--assets PREFIX` (textures, caches) "
    "`--dry-run` (check and show the plan, render nothing)\n"
    "`/render status [JOB]` · `/render list` · `/render cancel JOB` · `/render retry JOB` (failed frames only) · "
    "`/render submit JOB` (a job waiting for Submit) · `/render help`\n"
)


def _guardrails(costs: Costs) -> str:
    return (
        f"Jobs over {costs.probe_over_frames} frames render their first, middle and last frames first: the card then "
        f"shows what the whole job will cost and take. Over {money(costs.confirm_over_usd)} the job waits for its "
        f"submitter's *Submit*, over {money(costs.admin_over_usd)} for an admin's."
    )


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def help_message(costs: Costs | None = None) -> tuple[str, Blocks]:
    text = HELP + _guardrails(costs or Costs())
    return text, [_section(text)]


def error_message(text: str) -> tuple[str, Blocks]:
    """A mistake, said plainly (sent ephemeral)."""
    return text, [_section(f"⚠️ {text}")]


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


def job_card(job: Job, now: float, costs: Costs | None = None) -> tuple[str, Blocks]:
    """The job card in the channel: who, what, progress, cost, and the buttons; updated in place."""
    finished = job.done + job.failed
    label = STATUS_LABEL[job.status]
    text = f"{label} `{job.job_id}`: {job.scene_key} frames {job.frames_spec} ({finished}/{job.total})"
    end = job.finished_at if job.status.is_final and job.finished_at else now
    timing = f"elapsed {duration(end - job.created_at)}"
    if remaining := eta(job, now):
        timing += f" · ETA {remaining}"
    if money_line := cost_line(job, costs or Costs()):
        timing += f"\n{money_line}"
    counts = f"{job.done} done" + (f" · {job.failed} failed" if job.failed else "")
    retry_note = f" · retry of `{job.retry_of}`" if job.retry_of else ""
    blocks: Blocks = [
        _section(
            f"*{label}* · `{job.scene_key}` · frames `{job.frames_spec}` · by <@{job.requested_by}>{retry_note}"
        ),
        _section(f"`{progress_bar(finished, job.total)}`  {counts}\n{timing}"),
    ]
    if note := _phase_note(job, now, costs or Costs()):
        blocks.append(_section(note))
    blocks.append(_context(f"Job `{job.job_id}` · {job.settings.describe()}"))
    buttons = []
    if job.status is JobStatus.AWAITING_APPROVAL:
        who = "an admin" if job.approval == "admin" else f"<@{job.requested_by}> or an admin"
        buttons.append(
            {
                "type": "button",
                "action_id": "job_submit",
                "text": {"type": "plain_text", "text": "Submit"},
                "style": "primary",
                "value": job.job_id,
                "confirm": {
                    "title": {"type": "plain_text", "text": "Render the whole job?"},
                    "text": {
                        "type": "mrkdwn",
                        "text": f"{_sentence(job.approval_reason)}. Only {who} can submit it.",
                    },
                    "confirm": {"type": "plain_text", "text": "Submit"},
                    "deny": {"type": "plain_text", "text": "Not yet"},
                },
            }
        )
    if not job.status.is_final:
        buttons.append(
            {
                "type": "button",
                "action_id": "job_cancel",
                "text": {"type": "plain_text", "text": "Cancel"},
                "style": "danger",
                "value": job.job_id,
                "confirm": {
                    "title": {"type": "plain_text", "text": "Cancel this render?"},
                    "text": {
                        "type": "mrkdwn",
                        "text": f"Frames not yet rendered in `{job.job_id}` will be skipped.",
                    },
                    "confirm": {"type": "plain_text", "text": "Cancel render"},
                    "deny": {"type": "plain_text", "text": "Keep rendering"},
                },
            }
        )
    if job.status is JobStatus.DONE_WITH_FAILURES:
        buttons.append(
            {
                "type": "button",
                "action_id": "job_retry",
                "text": {"type": "plain_text", "text": "Retry failed"},
                "value": job.job_id,
            }
        )
    if job.done:
        buttons.append(
            {
                "type": "button",
                "action_id": "job_outputs",
                "text": {"type": "plain_text", "text": "Outputs"},
                "value": job.job_id,
            }
        )
    if buttons:
        blocks.append({"type": "actions", "block_id": f"job:{job.job_id}", "elements": buttons})
    return text, blocks


def _phase_note(job: Job, now: float, costs: Costs) -> str:
    """What the job is doing between phases, or why it ended early."""
    if job.status is JobStatus.PROBING:
        frames = ", ".join(str(frame) for frame in job.probe_frames)
        return f"🔍 Rendering frames {frames} first, to see what the whole job will cost and take."
    if job.status is JobStatus.AWAITING_APPROVAL:
        who = "an admin" if job.approval == "admin" else f"<@{job.requested_by}> (or an admin)"
        expires = (job.awaiting_since or now) + costs.confirm_expiry_s
        # Slack shows the time in each reader's own zone; the card is not updated while it waits
        fallback = datetime.fromtimestamp(expires, UTC).strftime("%H:%M UTC")
        what = ""
        if job.estimate is not None:
            what = f"The rest takes about {duration(job.estimate.eta_s)}, {costs.concurrency:,} renders at a time. "
        return (
            f"✋ Waiting for {who} to press *Submit*: {job.approval_reason}. {what}"
            f"Expires at <!date^{int(expires)}^{{time}}|{fallback}> if nobody does."
        )
    if job.status in (JobStatus.FAILED, JobStatus.EXPIRED) and job.failure:
        mark = "❌" if job.status is JobStatus.FAILED else "⌛"
        return f"{mark} {_sentence(job.failure)}. Nothing more was rendered."
    return ""


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def status_message(job: Job, now: float, costs: Costs | None = None) -> tuple[str, Blocks]:
    """`/render status JOB`: the card's content, sent to the asker only."""
    return job_card(job, now, costs)


def approval_request(job: Job, admins: frozenset[str]) -> str:
    """The thread reply when a job's estimate needs someone's Submit."""
    cost = f"{money(job.estimate.cost_usd)} and about {duration(job.estimate.eta_s)}" if job.estimate else ""
    if job.approval == "admin":
        who = (
            " ".join(f"<@{admin}>" for admin in sorted(admins)) or "An admin (none is set: STUDIOBOT_ADMINS)"
        )
        ask = f"{who}: `{job.job_id}` by <@{job.requested_by}> needs an admin's *Submit*"
    else:
        ask = f"<@{job.requested_by}>: `{job.job_id}` waits for your *Submit*"
    estimate = f" The whole job: {cost}." if cost else ""
    return f"✋ {ask} ({job.approval_reason}).{estimate} Press *Submit* on the card, or `/render submit {job.job_id}`."


def approved_note(job: Job, by: str) -> str:
    """The thread reply when someone pressed Submit."""
    if job.status is JobStatus.PROBING:
        return f"▶️ <@{by}> submitted `{job.job_id}`: its probe frames render first."
    return f"▶️ <@{by}> submitted `{job.job_id}`: {job.remaining:,} frames are on their way."


def job_list(jobs: list[Job], user_id: str, now: float) -> tuple[str, Blocks]:
    """`/render list`: the channel's recent jobs, the asker's first."""
    if not jobs:
        text = "No renders in this channel yet: try `/render help`."
        return text, [_section(text)]
    ordered = sorted(jobs, key=lambda job: (job.requested_by != user_id, -job.created_at))
    lines = []
    for job in ordered[:15]:
        finished = job.done + job.failed
        lines.append(
            f"`{job.job_id}` {STATUS_LABEL[job.status]} · `{job.scene_key}` `{job.frames_spec}` · "
            f"{finished}/{job.total} · <@{job.requested_by}> · {duration(now - job.created_at)} ago"
        )
    text = "Recent renders in this channel:\n" + "\n".join(lines)
    return text, [_section(text)]


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
    from backend.render.frames import compact

    if job.status is JobStatus.DONE:
        text = f"✅ <@{job.requested_by}> all {job.total} frames of `{job.scene_key}` rendered in {took}."
    elif job.status is JobStatus.DONE_WITH_FAILURES:
        text = (
            f"⚠️ <@{job.requested_by}> {job.done} of {job.total} frames of `{job.scene_key}` rendered in {took}; "
            f"{job.failed} failed: `{compact(failed_frames)}`. Press *Retry failed* or `/render retry {job.job_id}`."
        )
        for frame, reason in list(failed_reasons.items())[:3]:
            text += f"\n• frame {frame}: {reason[:200]}"
    else:
        text = f"🛑 Render `{job.job_id}` was cancelled: {job.done} of {job.total} frames were rendered."
    return text


def _input(
    block_id: str, label: str, placeholder: str, initial: str = "", optional: bool = False
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "value",
        "placeholder": {"type": "plain_text", "text": placeholder},
    }
    if initial:
        element["initial_value"] = initial
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": {"type": "plain_text", "text": label},
        "element": element,
    }


def _select(block_id: str, label: str, options: list[str], initial: str) -> dict[str, Any]:
    choices = [{"text": {"type": "plain_text", "text": option}, "value": option} for option in options]
    return {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": label},
        "element": {
            "type": "static_select",
            "action_id": "value",
            "options": choices,
            "initial_option": next(choice for choice in choices if choice["value"] == initial),
        },
    }


def render_modal(file_name: str, private_metadata: str) -> dict[str, Any]:
    """ "Render this scene": frames and settings for a .blend shared in a channel."""
    return {
        "type": "modal",
        "callback_id": "render_scene",
        "private_metadata": private_metadata,
        "title": {"type": "plain_text", "text": "Render this scene"},
        "submit": {"type": "plain_text", "text": "Render"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            _section(f"Render `{file_name}` on the farm. The file is copied into the scenes bucket first."),
            _input("frames", "Frames", "1-240, 1-240x2 or 1,5,10-20", "1-24"),
            _input("res", "Resolution", "1920x1080 (empty: the scene's)", optional=True),
            _input("samples", "Samples", "64 (empty: the scene's)", optional=True),
            _select("engine", "Engine", ["scene", "CYCLES", "BLENDER_WORKBENCH", "BLENDER_EEVEE"], "scene"),
            _select("format", "Format", ["PNG", "JPEG", "OPEN_EXR"], "PNG"),
        ],
    }


def notice_modal(title: str, text: str) -> dict[str, Any]:
    """A modal that only says something (e.g. there is no scene in that message)."""
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title[:24]},
        "close": {"type": "plain_text", "text": "OK"},
        "blocks": [_section(text)],
    }


WORKSTATIONS_HELP = (
    "*Workstations*\n"
    "`/workstations status` — every workstation: owner, state, up for, expires in, keep-alive\n"
    "`/workstations start NAME` · `/workstations stop NAME` (its owner or an admin)\n"
    "`/workstations keepalive NAME on|off` — at expiry, extend instead of stop\n"
    "`/workstations extend NAME 4h` — push a running session's expiry (`90m`, `1h30m` work too)\n"
    "Running sessions last 11 h 30 min and stopped ones 4 days unless extended; owners are warned 30 min before."
)


def workstations_table(rows: list[Any]) -> tuple[str, Blocks]:
    """`/workstations status` as a fixed-width table (Slack renders code blocks monospaced)."""
    from backend.workstations.durations import describe

    if not rows:
        text = "No workstations found: tag EC2 instances `studiobot:workstation=<name>` to list them here."
        return text, [_section(text)]
    header = f"{'name':<14} {'owner':<12} {'state':<9} {'up for':<12} {'expires in':<12} keep-alive"
    lines = [header]
    for row in rows:
        lines.append(
            f"{row.name:<14} {row.owner:<12} {row.state:<9} "
            f"{describe(row.up_for) if row.up_for else '—':<12} "
            f"{describe(row.expires_in) if row.expires_in is not None else '—':<12} "
            f"{'on' if row.keepalive else 'off'}{' · in use' if row.in_use else ''}"
        )
    table = "```\n" + "\n".join(lines) + "\n```"
    return f"{len(rows)} workstations", [_section(table)]


def expiring_message(name: str, owner: str, minutes_left: int, keepalive: bool) -> tuple[str, Blocks]:
    """The warning before a session lapses, with Extend 2 h / Stop now."""
    what = "it will be extended (keep-alive is on)" if keepalive else "it will be stopped"
    text = f"⏰ <@{owner}> `{name}`'s session ends in {minutes_left} min: {what}."
    buttons = [
        {
            "type": "button",
            "action_id": "ws_extend",
            "text": {"type": "plain_text", "text": "Extend 2 h"},
            "value": name,
            "style": "primary",
        },
        {
            "type": "button",
            "action_id": "ws_stop",
            "text": {"type": "plain_text", "text": "Stop now"},
            "value": name,
        },
    ]
    return text, [_section(text), {"type": "actions", "block_id": f"ws:{name}", "elements": buttons}]


BUDGET_HELP = (
    "*Budgets*\n"
    "`/budget` or `/budget status` — each AWS budget: limit, actual spend, forecast, % used; and the budget guard\n"
    "`/budget guard on [WHY]` · `/budget guard off` — admins only: while the guard is on, new renders need an "
    "admin's approval\n"
    "AWS Budgets alerts the ops channel at 50 %, 80 % and 100 % of actual spend and at 100 % of the forecast; "
    "actual spend at the limit turns the guard on by itself."
)


def budget_help() -> tuple[str, Blocks]:
    return BUDGET_HELP, [_section(BUDGET_HELP)]


def _amount(amount: float | None, unit: str) -> str:
    if amount is None:
        return "—"
    return dollars(amount) if unit == "USD" else f"{amount:,.2f} {unit}"


def _since(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def guard_line(guard: GuardState, bold: str = "*") -> str:
    """The guard's state in one sentence: on or off, since when, by whom, why (`bold=""` for plain text)."""
    if guard.on:
        why = f": {guard.reason.rstrip('.')}" if guard.reason else ""
        return (
            f"🛡️ {bold}Budget guard on{bold} since {_since(guard.changed_at)}, turned on by {who(guard.by)}{why}. "
            "New renders need an admin's approval."
        )
    if guard.changed_at:
        return (
            f"{bold}Budget guard off{bold} since {_since(guard.changed_at)}, turned off by {who(guard.by)}: "
            "new renders go ahead without an admin's approval."
        )
    return f"{bold}Budget guard off{bold}: new renders go ahead without an admin's approval."


def budget_status(status: BudgetStatus) -> tuple[str, Blocks]:
    """`/budget status`: every budget as a fixed-width table, then the guard (the text is plain, for the CLI)."""
    guard, plain_guard = guard_line(status.guard), guard_line(status.guard, bold="")
    if not status.budgets:
        text = (
            "No budgets in this AWS account: the AWS deployment creates `studiobot-<stage>-monthly` "
            "(deploy param `monthlyBudgetUsd`)."
        )
        return f"{text}\n{plain_guard}", [_section(text), _section(guard)]
    width = min(max(len("budget"), *(len(budget.name) for budget in status.budgets)), 40)
    lines = [f"{'budget':<{width}} {'limit':>12} {'actual':>12} {'forecast':>12} {'used':>6}"]
    for budget in status.budgets:
        used = f"{budget.percent_used:.0f} %" if budget.percent_used is not None else "—"
        lines.append(
            f"{budget.name[:width]:<{width}} {_amount(budget.limit, budget.unit):>12} "
            f"{_amount(budget.actual, budget.unit):>12} {_amount(budget.forecast, budget.unit):>12} {used:>6}"
        )
    table = "\n".join(lines)
    return f"Budgets:\n{table}\n{plain_guard}", [_section(f"```\n{table}\n```"), _section(guard)]


def budget_alert_message(alert: BudgetAlert) -> tuple[str, Blocks]:
    """AWS Budgets' alert in the ops channel."""
    text = budget_alert_text(alert)
    return text, [_section(text), _context("`/budget` shows every budget and the budget guard.")]


def guard_changed_message(event: BudgetGuardChanged) -> tuple[str, Blocks]:
    """The guard went on or off, in the ops channel."""
    text = guard_changed_text(event)
    return text, [_section(text)]
