"""Events as the words a channel reads. The terminal notifier prints these; the Slack notifier builds on them."""

from __future__ import annotations

from backend.events import (
    BudgetAlert,
    BudgetGuardChanged,
    Event,
    JobApproved,
    JobCompleted,
    JobEstimated,
    JobProgress,
    KeepAliveReport,
    SessionExpiring,
    SessionExtended,
    SessionStopped,
    UnknownEvent,
    WorkstationAlert,
)
from backend.render.estimates import duration, money
from backend.render.frames import compact


def progress_bar(done: int, total: int, width: int = 10) -> str:
    """`▰▰▰▰▱▱▱▱▱▱ 120/240`."""
    filled = 0 if total <= 0 else round(width * done / total)
    if 0 < done < total:
        filled = min(max(filled, 1), width - 1)  # started shows a block; unfinished never looks full
    return f"{'▰' * filled}{'▱' * (width - filled)} {done}/{total}"


def message_text(event: Event) -> str | None:
    """The message a channel gets for an event, or None for events nobody needs to read."""
    if isinstance(event, JobProgress):
        failed = f", {event.failed} failed" if event.failed else ""
        return f"⏳ Render `{event.job_id}` ({event.scene_key}): {progress_bar(event.done + event.failed, event.total)}{failed}"
    if isinstance(event, JobCompleted):
        return _completed(event)
    if isinstance(event, JobEstimated):
        cost = f"{money(event.estimated_cost_usd)}, about {duration(event.estimated_eta_s)} more"
        if not event.approval:
            return f"🔍 Render `{event.job_id}`: probe frames rendered; the whole job: {cost}. Rendering the rest."
        who = "an admin's" if event.approval == "admin" else f"<@{event.requested_by}>'s (or an admin's)"
        return (
            f"✋ Render `{event.job_id}`: the whole job: {cost}. It waits for {who} Submit ({event.reason}): "
            f"`/render submit {event.job_id}`."
        )
    if isinstance(event, JobApproved):
        return f"▶️ Render `{event.job_id}` submitted by <@{event.by}>."
    if isinstance(event, SessionExpiring):
        what = "it will be extended (keep-alive is on)" if event.keepalive else "it will be stopped"
        return f"⏰ <@{event.owner}> `{event.name}`'s session ends soon: {what}. `/workstations extend {event.name} 2h` keeps it."
    if isinstance(event, SessionStopped):
        return f"⏹️ Stopped `{event.name}` (<@{event.owner}>): {event.reason}."
    if isinstance(event, SessionExtended):
        return f"♻️ Extended `{event.name}` (<@{event.owner}>): {event.reason}."
    if isinstance(event, KeepAliveReport):
        return _keepalive(event)
    if isinstance(event, WorkstationAlert):
        if event.kind == "spot-interruption":
            return (
                f"🚨 <@{event.owner}> AWS is reclaiming spot workstation `{event.name}` in two minutes: "
                f"save your work now."
            )
        return f"🖥️ `{event.name}` (<@{event.owner}>) is now {event.state}."
    if isinstance(event, BudgetAlert):
        return budget_alert_text(event)
    if isinstance(event, BudgetGuardChanged):
        return guard_changed_text(event)
    if isinstance(event, UnknownEvent):
        return None
    return None


def dollars(amount: float) -> str:
    """`$1,234.56`."""
    return f"${amount:,.2f}"


def percent_of(part: float, whole: float) -> str:
    """`83 %`, or empty when there is no whole to measure against."""
    return f"{100 * part / whole:.0f} %" if whole > 0 else ""


def who(by: str) -> str:
    """A Slack user as a mention; anyone else (AWS Budgets, the CLI's operator) by name."""
    return f"<@{by}>" if by.startswith(("U", "W")) and by.isalnum() else by


def budget_alert_text(event: BudgetAlert) -> str:
    """AWS Budgets' alert: which budget, which threshold, the actual or forecast spend against the limit."""
    threshold_share = percent_of(event.threshold_usd, event.limit_usd)
    threshold = f"{threshold_share} alert" if threshold_share else "alert"
    share = percent_of(event.amount_usd, event.limit_usd)
    limit = dollars(event.limit_usd)
    spend = (
        f"{dollars(event.amount_usd)}, {share} of the {limit} limit"
        if share
        else f"{dollars(event.amount_usd)} against a {limit} limit"
    )
    if event.alert_type == "FORECASTED":
        return (
            f"📈 Budget `{event.budget_name}` is forecast to pass its {threshold} ({dollars(event.threshold_usd)}): "
            f"forecast spend is {spend}."
        )
    return (
        f"💸 Budget `{event.budget_name}` passed its {threshold} ({dollars(event.threshold_usd)}): "
        f"actual spend is {spend}."
    )


def guard_changed_text(event: BudgetGuardChanged) -> str:
    """The guard went on (renders wait for an admin, and why) or off (and who said so)."""
    if not event.on:
        return f"✅ {who(event.by)} turned the budget guard off: new renders go ahead without an admin's approval."
    why = f" Why: {event.reason.rstrip('.')}." if event.reason.strip() else ""
    return (
        f"🛡️ {who(event.by)} turned the budget guard on: new renders need an admin's approval.{why} "
        "An admin turns it off with `/budget guard off`."
    )


def _keepalive(event: KeepAliveReport) -> str:
    def names(items: list[str]) -> str:
        return ", ".join(f"`{name}`" for name in items) if items else "none"

    text = f"♻️ Keep-alive: started {names(event.started)}; stopped again {names(event.stopped)}"
    if event.left_running:
        text += f"; left running because someone is connected: {names(event.left_running)}"
    if event.error:
        text += f". ⚠️ A step failed: {event.error}"
    return text + "."


def _completed(event: JobCompleted) -> str:
    took = duration(event.finished_at - event.created_at) if event.finished_at and event.created_at else ""
    who = f" for <@{event.requested_by}>" if event.requested_by.startswith(("U", "W")) else ""
    outputs = f"s3://{event.output_bucket}/{event.output_prefix}"
    if event.status == "done":
        frames = "the frame" if event.total == 1 else f"all {event.total} frames"
        return f"✅ Render `{event.job_id}`{who} finished: {frames} of `{event.scene_key}` in {took}. Outputs: {outputs}"
    if event.status == "done_with_failures":
        failed = compact(event.failed_frames) or str(event.failed)
        return (
            f"⚠️ Render `{event.job_id}`{who} finished with {event.failed} failed frame"
            f"{'s' if event.failed != 1 else ''} ({failed}): {event.done} of {event.total} frames of "
            f"`{event.scene_key}` rendered in {took}. `/render retry {event.job_id}` renders the failed ones again. "
            f"Outputs: {outputs}"
        )
    if event.status in ("failed", "expired"):
        frames = compact(event.failed_frames) or "a probe frame"
        what = (
            f"stopped: probe frame {frames} failed"
            if event.status == "failed"
            else "expired: nobody pressed Submit"
        )
        return f"❌ Render `{event.job_id}`{who} of `{event.scene_key}` {what}. Nothing more was rendered."
    if event.status == "cancelled":
        return (
            f"🛑 Render `{event.job_id}`{who} was cancelled: {event.done} of {event.total} frames of "
            f"`{event.scene_key}` were rendered. Outputs: {outputs}"
        )
    return f"Render `{event.job_id}` ended: {event.status}."
