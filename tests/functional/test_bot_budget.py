"""`/budget` in Slack: every budget and the guard; only admins turn the guard, and the ops channel hears of it."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from backend.budgets.guard import BudgetGuard
from backend.events import BudgetGuardChanged
from bot.app import web_client
from bot.notifier import SlackNotifier
from entry.wiring import Services

from .conftest import ADMIN, ARTIST, Bot
from .test_budgets_provider import create_budget

OPS = "C0OPS"


def _ack_text(bot: Bot, text: str, user: str = ARTIST) -> str:
    return str(json.loads(bot.command_as("/budget", text, user=user).body)["text"])


class OpsChannel:
    """The notifier as on AWS, fed the studio events as they are published; what the ops channel read."""

    def __init__(self, bot: Bot) -> None:
        settings = replace(bot.services.settings, ops_channel=OPS)
        self.bot = bot
        self.notifier = SlackNotifier(web_client(settings, "xoxb-test"), Services(settings))
        self.delivered = 0

    def read(self) -> list[str]:
        events = self.bot.stack.events()
        for event in events[self.delivered :]:
            self.notifier.handle(event)
        self.delivered = len(events)
        calls = self.bot.slack.calls_to("chat.postMessage")
        return [call.args["text"] for call in calls if call.args["channel"] == OPS]


def _types(reply: dict[str, Any]) -> list[str]:
    return [block["type"] for block in reply["blocks"]]


def test_help_and_mistakes_are_answered_in_the_ack(bot: Bot) -> None:
    assert "`/budget guard on [WHY]` · `/budget guard off`" in _ack_text(bot, "help")
    assert _ack_text(bot, "spend").startswith(
        "`spend` is not something `/budget` does. Usage: `/budget status`"
    )
    assert bot.slack.calls_to("response_url") == []  # nothing was left for a lazy listener


def test_status_shows_each_budget_and_that_the_guard_is_off(bot: Bot) -> None:
    create_budget("studiobot-local-monthly", "500")
    bot.command_as("/budget", "")
    (reply,) = bot.replies()
    (cells,) = [
        [[cell.get("text") for cell in row] for row in b["rows"]]
        for b in reply["blocks"]
        if b["type"] == "table"
    ]
    assert cells == [
        ["budget", "limit", "actual", "forecast", "used"],
        ["studiobot-local-monthly", "$500.00", "$0.00", "$0.00", "0 %"],
    ]
    assert (
        reply["blocks"][0]["text"]["text"]
        == "*Budget guard off*: new renders go ahead without an admin's approval."
    )
    bot.slack.tables_refused = True  # where Slack refuses table blocks: today's code block, then the guard
    bot.command_as("/budget", "", trigger="t2")
    refused_with_the_chart, refused_without, reply = bot.replies(4)[1:]  # once per workspace: the chart kept
    assert [_types(refused_with_the_chart), _types(refused_without)] == [
        ["section", "image", "table"],
        ["section", "table"],
    ]
    assert _types(reply) == ["section", "section", "image"]
    table = reply["blocks"][0]["text"]["text"]
    assert table.splitlines()[1].split() == ["budget", "limit", "actual", "forecast", "used"]
    assert table.splitlines()[2].split() == ["studiobot-local-monthly", "$500.00", "$0.00", "$0.00", "0", "%"]
    assert reply["blocks"][1]["text"]["text"] == (
        "*Budget guard off*: new renders go ahead without an admin's approval."
    )


def test_someone_who_is_not_an_admin_is_refused_and_nothing_changes(bot: Bot) -> None:
    refusal = _ack_text(bot, "guard off", user=ARTIST)
    assert refusal == (
        f"Only a studio admin can turn the budget guard on or off: ask <@{ADMIN}>. `/budget` shows its state."
    )
    assert _ack_text(bot, "guard on please", user=ARTIST) == refusal
    assert BudgetGuard(bot.stack.settings.table_name).state().on is False
    assert bot.stack.events() == []


def test_an_admin_turns_the_guard_on_and_off_and_the_ops_channel_is_told(bot: Bot) -> None:
    ops = OpsChannel(bot)
    # WHEN an admin turns the guard on, saying why
    bot.command_as("/budget", "guard on end of month crunch", user=ADMIN)
    assert bot.replies()[0]["text"] == (
        "🛡️ Budget guard on: new renders need an admin's approval until an admin runs `/budget guard off`."
    )
    guard = BudgetGuard(bot.stack.settings.table_name).state()
    assert (guard.on, guard.by, guard.reason) == (True, ADMIN, "end of month crunch")
    assert bot.stack.events() == [BudgetGuardChanged(on=True, by=ADMIN, reason="end of month crunch")]
    assert ops.read() == [
        f"🛡️ <@{ADMIN}> turned the budget guard on: new renders need an admin's approval. "
        "Why: end of month crunch. An admin turns it off with `/budget guard off`."
    ]
    # THEN the status says so, and turning it on again changes nothing
    bot.command_as("/budget", "status", trigger="t2")
    guard_line = bot.replies(2)[-1]["blocks"][1]["text"]["text"]
    assert guard_line.startswith("🛡️ *Budget guard on* since ") and guard_line.endswith(
        f"UTC, turned on by <@{ADMIN}>: end of month crunch. New renders need an admin's approval."
    )
    bot.command_as("/budget", "guard on", user=ADMIN, trigger="t3")
    assert bot.replies(3)[-1]["text"] == "The budget guard is already on: nothing to do."
    # WHEN the admin turns it off: the ops channel hears who did
    bot.command_as("/budget", "guard off", user=ADMIN, trigger="t4")
    assert (
        bot.replies(4)[-1]["text"] == "✅ Budget guard off: new renders go ahead without an admin's approval."
    )
    on_and_off = ops.read()
    assert len(on_and_off) == 2 and on_and_off[1] == (
        f"✅ <@{ADMIN}> turned the budget guard off: new renders go ahead without an admin's approval."
    )
