"""`/render costs`' reply (`backend.render.spend.CostsShown`) as a Slack message; the CLI prints its text."""

from __future__ import annotations

import re

from backend.render.estimates import money
from backend.render.spend import CostGroup, CostsShown
from bot.messages import Blocks, context, dollars, section, who
from bot.messages.pages import packed
from bot.messages.tables import Chart, charted
from bot.messages.text import MESSAGE_TEXT, clip, cut

_SLACK_CHANNEL = re.compile(r"[CGD][A-Z0-9]{2,}")  # a Slack conversation id (not the CLI's `cli`)
_GROUP_CHARS = 80
_BY = {"user": "person", "channel": "channel", "shot": "shot", "class": "render class"}


def _name(group: CostGroup, by: str) -> str:
    if by == "user":
        return who(group.name)
    if by == "channel" and _SLACK_CHANNEL.fullmatch(group.name):
        return f"<#{group.name}>"
    return f"`{clip(group.name, _GROUP_CHARS, keep_end=True)}`"


def _jobs(count: int) -> str:
    return f"{count} job{'' if count == 1 else 's'}"


def _budgets_line(reply: CostsShown) -> str:
    """AWS Budgets' actual spend this month, beside the farm's (nothing when AWS Budgets could not tell)."""
    if not reply.budgets:
        return ""
    parts = [
        f"`{clip(budget.name, _GROUP_CHARS)}` {dollars(budget.actual)} of {dollars(budget.limit)}"
        for budget in reply.budgets
    ]
    return "AWS Budgets this month (the whole account): " + " · ".join(parts) + "."


def costs_message(reply: CostsShown) -> tuple[str, Blocks]:
    """The month's render spend grouped, biggest first, the rest summed, the total and AWS Budgets' actual; and a
    chart of it (`Tabled.chart`)."""
    heading = f"💰 Render spend in {reply.month} by {_BY[reply.by]} (measured, {_jobs(reply.jobs)}):"
    if not reply.jobs:
        text = f"💰 No renders in {reply.month}: nothing spent on the farm."
        budgets = _budgets_line(reply)
        text = f"{text}\n{budgets}" if budgets else text
        return text, [section(text)]
    lines = [
        f"`{money(group.usd):>10}` · {_jobs(group.jobs)} · {_name(group, reply.by)}" for group in reply.groups
    ]
    if reply.more:
        lines.append(f"…and {reply.more} more: {money(reply.more_usd)}")
    total = f"*Total {money(reply.total_usd)}*"
    budgets = _budgets_line(reply)
    blocks = [section(part) for part in packed([heading, *lines, total])]
    if budgets:
        blocks.append(context(budgets))
    text = "\n".join([heading, *lines, total, *([budgets] if budgets else [])])
    return charted((cut(text, MESSAGE_TEXT), blocks), _chart(reply), f"Render spend in {reply.month}")


def _chart(reply: CostsShown) -> Chart:
    """The month's spend by day (added up) against the first USD budget's limit, then the cost of each group."""
    limits = [budget.limit for budget in reply.budgets or [] if budget.unit == "USD" and budget.limit > 0]
    groups = [(group.name, group.usd) for group in reply.groups]
    if reply.more:
        groups.append((f"{reply.more} more", reply.more_usd))

    def draw() -> bytes:
        from backend.budgets import chart  # Pillow: only when posted, never in the ack path

        return chart.stacked(
            chart.spend_by_day_chart(
                reply.by_day,
                reply.days_in_month,
                limits[0] if limits else None,
                f"Render spend by day in {reply.month}, added up"
                + (" (red: the budget's limit)" if limits else ""),
            ),
            chart.cost_by_group_chart(groups, f"Render spend in {reply.month} by {_BY[reply.by]}"),
        )

    return draw
