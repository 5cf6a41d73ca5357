"""Budgets in words: the help, `/budget status`, the guard's state, and AWS Budgets' alerts and guard changes,
as Block Kit for the ops channel and as plain lines for the terminal."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from backend.events import BudgetAlert, BudgetGuardChanged
from bot.messages import Blocks, context, dollars, percent_of, section, who

if TYPE_CHECKING:  # the ack path imports this module: nothing here may pull in boto3
    from backend.budgets.guard import GuardState
    from backend.budgets.service import BudgetStatus

BUDGET_HELP = (
    "*Budgets*\n"
    "`/budget` or `/budget status` — each AWS budget: limit, actual spend, forecast, % used; and the budget guard\n"
    "`/budget guard on [WHY]` · `/budget guard off` — admins only: while the guard is on, new renders need an "
    "admin's approval\n"
    "AWS Budgets alerts the ops channel at 50 %, 80 % and 100 % of actual spend and at 100 % of the forecast; "
    "actual spend at the limit turns the guard on by itself."
)

EVENTS = (BudgetAlert, BudgetGuardChanged)


def budget_help() -> tuple[str, Blocks]:
    """`/budget help`."""
    return BUDGET_HELP, [section(BUDGET_HELP)]


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
        return f"{text}\n{plain_guard}", [section(text), section(guard)]
    width = min(max(len("budget"), *(len(budget.name) for budget in status.budgets)), 40)
    lines = [f"{'budget':<{width}} {'limit':>12} {'actual':>12} {'forecast':>12} {'used':>6}"]
    for budget in status.budgets:
        used = f"{budget.percent_used:.0f} %" if budget.percent_used is not None else "—"
        lines.append(
            f"{budget.name[:width]:<{width}} {_amount(budget.limit, budget.unit):>12} "
            f"{_amount(budget.actual, budget.unit):>12} {_amount(budget.forecast, budget.unit):>12} {used:>6}"
        )
    table = "\n".join(lines)
    return f"Budgets:\n{table}\n{plain_guard}", [section(f"```\n{table}\n```"), section(guard)]


def budget_alert_message(alert: BudgetAlert) -> tuple[str, Blocks]:
    """AWS Budgets' alert in the ops channel."""
    text = budget_alert_text(alert)
    return text, [section(text), context("`/budget` shows every budget and the budget guard.")]


def guard_changed_message(event: BudgetGuardChanged) -> tuple[str, Blocks]:
    """The guard went on or off, in the ops channel."""
    text = guard_changed_text(event)
    return text, [section(text)]


def event_text(event: BudgetAlert | BudgetGuardChanged) -> str:
    """A budget event as one line for a channel or the terminal."""
    return budget_alert_text(event) if isinstance(event, BudgetAlert) else guard_changed_text(event)


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


def guard_turned_text(on: bool) -> str:
    """The answer to the admin who turned the guard on or off (the channel hears of it separately)."""
    if on:
        return (
            "🛡️ Budget guard on: new renders need an admin's approval until an admin runs `/budget guard off`."
        )
    return "✅ Budget guard off: new renders go ahead without an admin's approval."
