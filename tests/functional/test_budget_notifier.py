"""What the ops channel reads when AWS Budgets speaks: the alert, then the guard going on, once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from backend.aws.sns import SnsPublisher
from backend.budgets.guard import BudgetGuard
from backend.budgets.notifications import handle_message
from backend.events import BudgetGuardChanged
from bot.app import web_client
from bot.notifier import SlackNotifier
from entry.wiring import Services
from testing.slack import FakeSlack

from .conftest import Stack

EVENT = Path(__file__).resolve().parents[1] / "events" / "sns_budget_notification.json"
OPS = "C0OPS"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def _notifier(stack: Stack, slack: FakeSlack, ops_channel: str = OPS) -> SlackNotifier:
    settings = replace(stack.settings, slack_api_url=slack.base_url, ops_channel=ops_channel)
    return SlackNotifier(web_client(settings, "xoxb-test"), Services(settings))


def _deliver_budget_notification(stack: Stack, notifier: SlackNotifier, times: int = 1) -> None:
    """SNS → the budget Lambda → studio events → the notifier, as on AWS."""
    message = json.loads(EVENT.read_text())["Records"][0]["Sns"]["Message"]
    events, guard = SnsPublisher(stack.settings.events_topic_arn), BudgetGuard(stack.settings.table_name)
    for _ in range(times):
        handle_message(message, events, guard)
    for event in stack.events():
        notifier.handle(event)


def test_over_budget_the_ops_channel_reads_the_alert_then_the_guard_going_on_once(
    stack: Stack, slack: FakeSlack
) -> None:
    _deliver_budget_notification(stack, _notifier(stack, slack), times=2)  # SNS delivers it twice
    texts = [(call.args["channel"], call.args["text"]) for call in slack.calls_to("chat.postMessage")]
    alert = (
        "💸 Budget `studiobot-prod-monthly` passed its 100 % alert ($500.00): "
        "actual spend is $512.34, 102 % of the $500.00 limit."
    )
    guard_on = (
        "🛡️ AWS Budgets turned the budget guard on: new renders need an admin's approval. "
        "Why: `studiobot-prod-monthly` has spent $512.34 of its $500.00 budget. "
        "An admin turns it off with `/budget guard off`."
    )
    assert texts == [(OPS, alert), (OPS, guard_on), (OPS, alert)]


def test_without_an_ops_channel_budget_news_goes_nowhere_but_the_log(stack: Stack, slack: FakeSlack) -> None:
    notifier = _notifier(stack, slack, ops_channel="")
    _deliver_budget_notification(stack, notifier)
    notifier.handle(BudgetGuardChanged(on=False, by="U0ADMIN"))
    assert slack.calls_to("chat.postMessage") == []
