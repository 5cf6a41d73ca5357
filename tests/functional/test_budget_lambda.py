"""The budget topic's Lambda: every notification becomes a BudgetAlert; actual spend at the limit turns the guard
on, announced once however often SNS delivers it; text that is not a notification is dropped, not retried."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import entry.budget_alerts as budget_lambda
from backend.aws.sns import SnsPublisher
from backend.budgets.guard import BudgetGuard
from backend.budgets.notifications import handle_message
from backend.errors import AwsError
from backend.events import BudgetAlert, BudgetGuardChanged, Event
from entry import wiring

from .conftest import Stack

EVENT = Path(__file__).resolve().parents[1] / "events" / "sns_budget_notification.json"


def _record(message: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(EVENT.read_text())
    if message is not None:
        event["Records"][0]["Sns"]["Message"] = message
    return event


def _letter(alert_type: str, threshold: str, amount: str) -> str:
    return (
        "AWS Budget Notification November 21, 2026\nAWS Account 123456789012\n\nDear AWS Customer,\n\n"
        "Budget Name: studiobot-prod-monthly\nBudget Type: Cost\nBudgeted Amount: $500.00\n"
        f"Alert Type: {alert_type}\nAlert Threshold: > {threshold}\n{alert_type} Amount: {amount}\n"
    )


@pytest.fixture
def deployed(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """The handler composed from the environment, as Lambda runs it."""
    for name, value in stack.settings.to_env().items():
        monkeypatch.setenv(name, value)
    wiring.from_env.cache_clear()
    yield stack
    wiring.from_env.cache_clear()


def test_actual_spend_over_the_limit_alerts_and_turns_the_guard_on_once(deployed: Stack) -> None:
    # GIVEN AWS Budgets' notification that actual spend ($512.34) passed the $500 budget
    budget_lambda.handler(_record(), None)
    # THEN the alert is published, the guard is on, and its change is announced
    alert, changed = deployed.events()
    assert alert == BudgetAlert("studiobot-prod-monthly", "ACTUAL", 500.0, 512.34, 500.0)
    assert changed == BudgetGuardChanged(
        on=True, by="AWS Budgets", reason="`studiobot-prod-monthly` has spent $512.34 of its $500.00 budget"
    )
    guard = BudgetGuard(deployed.settings.table_name).state()
    assert guard.on and guard.by == "AWS Budgets"
    # WHEN SNS delivers the same notification again: the alert again, but no second change of the guard
    budget_lambda.handler(_record(), None)
    assert [type(event) for event in deployed.events()] == [BudgetAlert, BudgetGuardChanged, BudgetAlert]


@pytest.mark.parametrize(
    "message",
    [_letter("ACTUAL", "$400.00", "$412.50"), _letter("FORECASTED", "$500.00", "$640.00")],
    ids=["80-percent-actual", "forecast-over-the-limit"],
)
def test_an_alert_below_the_limit_or_a_forecast_leaves_the_guard_off(deployed: Stack, message: str) -> None:
    budget_lambda.handler(_record(message), None)
    (alert,) = deployed.events()
    assert isinstance(alert, BudgetAlert) and alert.amount_usd in (412.5, 640.0)
    assert BudgetGuard(deployed.settings.table_name).state().on is False


def test_a_message_that_is_not_a_notification_is_dropped_without_a_retry(deployed: Stack) -> None:
    # Returning normally is what stops Lambda from delivering it again.
    assert budget_lambda.handler(_record("Hello from a test publish"), None) is None
    assert deployed.events() == []
    assert BudgetGuard(deployed.settings.table_name).state().on is False


class RefusesOnce:
    """SNS that refuses one publish of a given event type, then accepts (as after a throttle)."""

    def __init__(self, publisher: SnsPublisher, refused: type[Event]) -> None:
        self.publisher = publisher
        self.refused: type[Event] | None = refused

    def publish(self, event: Event) -> None:
        if isinstance(event, self.refused or ()):
            self.refused = None
            raise AwsError("Could not publish BudgetGuardChanged (Throttling).", "Throttling")
        self.publisher.publish(event)


def test_a_guard_change_whose_announcement_failed_is_undone_so_the_redelivery_tells_it(stack: Stack) -> None:
    guard = BudgetGuard(stack.settings.table_name)
    events = RefusesOnce(SnsPublisher(stack.settings.events_topic_arn), BudgetGuardChanged)
    message = _record()["Records"][0]["Sns"]["Message"]
    with pytest.raises(AwsError):  # Lambda retries the delivery
        handle_message(message, events, guard)
    assert guard.state().on is False
    assert handle_message(message, events, guard) is True
    assert guard.state().on is True
    assert [type(event) for event in stack.events()] == [BudgetAlert, BudgetAlert, BudgetGuardChanged]
