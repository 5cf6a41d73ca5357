"""Budgets in words: the help, `/budget status`, the guard's state, and AWS Budgets' alerts and guard changes,
as Block Kit for the ops channel and as plain lines for the terminal."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from backend.events import BudgetAlert, BudgetGuardChanged
from bot.messages import Blocks, context, dollars, percent_of, section, who
from bot.messages.pages import PAGE_ROWS, code_sections, page_note, page_of
from bot.messages.tables import Chart, Tabled, table_block
from bot.messages.text import MESSAGE_TEXT, NAME_CHARS, REASON_CHARS, clip, cut, escape

if TYPE_CHECKING:  # the ack path imports this module: nothing here may pull in boto3
    from backend.budgets.guard import GuardState
    from backend.budgets.provider import Budget
    from backend.budgets.service import BudgetStatus

BUDGET_HELP = (
    "*Budgets*\n"
    "`/budget` or `/budget status` — each AWS budget: limit, actual spend, forecast, % used; and the budget guard "
    f"({PAGE_ROWS} budgets a page: `/budget status --page 2` shows the next)\n"
    "`/budget guard on [WHY]` · `/budget guard off` — admins only: while the guard is on, new renders need an "
    "admin's approval\n"
    "AWS Budgets alerts the ops channel at 50 %, 80 % and 100 % of actual spend and at 100 % of the forecast; "
    "actual spend at the limit turns the guard on by itself."
)

EVENTS = (BudgetAlert, BudgetGuardChanged)
NAME_WIDTH = 40  # the budget column; AWS allows names of 100 characters


def budget_help() -> tuple[str, Blocks]:
    """`/budget help`."""
    return BUDGET_HELP, [section(BUDGET_HELP)]


def _amount(amount: float | None, unit: str) -> str:
    if amount is None:
        return "—"
    return dollars(amount) if unit == "USD" else f"{amount:,.2f} {unit[:12]}"


def _since(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def guard_line(guard: GuardState, bold: str = "*") -> str:
    """The guard's state in one sentence: on or off, since when, by whom, why (`bold=""` for plain text)."""
    if guard.on:
        why = f": {clip(guard.reason.rstrip('.'), REASON_CHARS)}" if guard.reason else ""
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


def budget_status(status: BudgetStatus, page: int = 1) -> tuple[str, Blocks]:
    """`/budget status`: the guard, then the budgets as a table block a page at a time (code blocks where Slack
    refuses tables), with a chart of each budget's spend against its limit; the text is plain, for the CLI."""
    guard, plain_guard = guard_line(status.guard), guard_line(status.guard, bold="")
    if not status.budgets:
        text = (
            "No budgets in this AWS account: the AWS deployment creates `studiobot-STAGE-monthly` "
            "(deploy param `monthlyBudgetUsd`)."
        )
        return f"{text}\n{plain_guard}", [section(text), section(guard)]
    shown = page_of(status.budgets, page)
    width = min(max(len("budget"), *(len(budget.name) for budget in shown.rows)), NAME_WIDTH)
    header = f"{'budget':<{width}} {'limit':>12} {'actual':>12} {'forecast':>12} {'used':>6}"
    lines, cells = [], []
    for budget in shown.rows:
        used = f"{budget.percent_used:.0f} %" if budget.percent_used is not None else "—"
        amounts = [_amount(amount, budget.unit) for amount in (budget.limit, budget.actual, budget.forecast)]
        name = budget.name if len(budget.name) <= width else budget.name[: width - 1] + "…"
        lines.append(escape(f"{name:<{width}} {amounts[0]:>12} {amounts[1]:>12} {amounts[2]:>12} {used:>6}"))
        cells.append([budget.name, *amounts, used])
    blocks = [section(table) for table in code_sections(header, lines)]
    note = page_note(shown, "/budget status", "budgets")
    text = cut("\n".join(["Budgets:", header, *lines, *([note] if note else []), plain_guard]), MESSAGE_TEXT)
    noted = [context(note)] if note else []
    table = table_block(("budget", "limit", "actual", "forecast", "used"), cells, right=(1, 2, 3, 4))
    fallback = (text, [*blocks, *noted, section(guard)])
    return Tabled(text, [section(guard), *noted, table], fallback, _chart(shown.rows), "Budgets this month")


def _chart(shown: list[Budget]) -> Chart | None:
    """Each USD budget's actual and forecast spend against its limit, drawn when the message is posted."""
    amounts = [(b.name, b.actual, b.forecast, b.limit) for b in shown if b.unit == "USD" and b.limit > 0]
    if not amounts:
        return None

    def draw() -> bytes:
        from backend.budgets.chart import budgets_chart  # Pillow: only when posted, never in the ack path

        return budgets_chart(amounts, "Spend this period against each budget's limit (AWS Budgets)")

    return draw


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
    limit, name = dollars(event.limit_usd), clip(event.budget_name, NAME_CHARS)
    spend = (
        f"{dollars(event.amount_usd)}, {share} of the {limit} limit"
        if share
        else f"{dollars(event.amount_usd)} against a {limit} limit"
    )
    if event.alert_type == "FORECASTED":
        return (
            f"📈 Budget `{name}` is forecast to pass its {threshold} ({dollars(event.threshold_usd)}): "
            f"forecast spend is {spend}."
        )
    return (
        f"💸 Budget `{name}` passed its {threshold} ({dollars(event.threshold_usd)}): "
        f"actual spend is {spend}."
    )


def guard_changed_text(event: BudgetGuardChanged) -> str:
    """The guard went on (renders wait for an admin, and why) or off (and who said so)."""
    if not event.on:
        return f"✅ {who(event.by)} turned the budget guard off: new renders go ahead without an admin's approval."
    why = f" Why: {clip(event.reason.rstrip('.'), REASON_CHARS)}." if event.reason.strip() else ""
    return (
        f"🛡️ {who(event.by)} turned the budget guard on: new renders need an admin's approval.{why} "
        f"An admin turns it off with `/budget guard off`.{stopped_jobs_text(event)}"
    )


def stopped_jobs_text(event: BudgetGuardChanged, shown: int = 20) -> str:
    """The jobs the guard held or cancelled as it went on (`budget_action`), as sentences after its message."""

    def listed(ids: list[str]) -> str:
        more = f" and {len(ids) - shown:,} more" if len(ids) > shown else ""
        return ", ".join(f"`{clip(job_id, NAME_CHARS)}`" for job_id in ids[:shown]) + more

    said = ""
    if event.held:
        said += (
            f"\n⏸ Held {len(event.held):,} job{'s' if len(event.held) != 1 else ''} (the frames in hand finish): "
            f"{listed(event.held)}. An admin resumes each with `/render resume JOB`."
        )
    if event.cancelled:
        said += f"\n🛑 Cancelled {len(event.cancelled):,} job{'s' if len(event.cancelled) != 1 else ''}: "
        said += f"{listed(event.cancelled)}."
    if event.action in ("stop-and-finish", "stop-and-cancel") and not (event.held or event.cancelled):
        said += "\nNo job was queued or rendering: nothing to stop."
    return said


def guard_turned_text(on: bool) -> str:
    """The answer to the admin who turned the guard on or off (the channel hears of it separately)."""
    if on:
        return (
            "🛡️ Budget guard on: new renders need an admin's approval until an admin runs `/budget guard off`."
        )
    return "✅ Budget guard off: new renders go ahead without an admin's approval."
