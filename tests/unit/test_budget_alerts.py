"""AWS Budgets' plain-text SNS notifications read into BudgetAlert events (the format: `backend/budgets/alerts.py`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backend.budgets.alerts import parse_budget_notification
from backend.errors import ValidationError
from backend.events import BudgetAlert

EVENT = Path(__file__).resolve().parents[1] / "events" / "sns_budget_notification.json"


def _letter(alert_type: str, threshold: str, amount: str, budgeted: str = "$500.00") -> str:
    """A notification worded as AWS Budgets words them (see the module docstring)."""
    return (
        "AWS Budget Notification November 21, 2026\nAWS Account 123456789012\n\nDear AWS Customer,\n\n"
        f"You requested that we alert you when the {alert_type} Cost associated with your studiobot-prod-monthly "
        f"budget is greater than {threshold} for the current month. The {alert_type} Cost associated with this "
        f"budget is {amount}. You can find additional details below and by accessing the AWS Budgets dashboard [1]."
        "\n\nBudget Name: studiobot-prod-monthly\nBudget Type: Cost\n"
        f"Budgeted Amount: {budgeted}\nAlert Type: {alert_type}\nAlert Threshold: > {threshold}\n"
        f"{alert_type} Amount: {amount}\n\n[1] https://console.aws.amazon.com/costmanagement/home#/budgets\n"
    )


def test_the_sample_sns_record_is_actual_spend_over_the_limit() -> None:
    message = json.loads(EVENT.read_text())["Records"][0]["Sns"]["Message"]
    assert parse_budget_notification(message) == BudgetAlert(
        budget_name="studiobot-prod-monthly",
        alert_type="ACTUAL",
        threshold_usd=500.0,
        amount_usd=512.34,
        limit_usd=500.0,
    )


def test_an_80_percent_actual_alert_carries_the_threshold_in_dollars() -> None:
    alert = parse_budget_notification(_letter("ACTUAL", "$400.00", "$412.50"))
    assert (alert.alert_type, alert.threshold_usd, alert.amount_usd, alert.limit_usd) == (
        "ACTUAL",
        400.0,
        412.5,
        500.0,
    )


def test_a_forecast_reads_its_forecasted_amount_line() -> None:
    alert = parse_budget_notification(_letter("FORECASTED", "$500.00", "$640.10"))
    assert (alert.alert_type, alert.threshold_usd, alert.amount_usd) == ("FORECASTED", 500.0, 640.1)


def test_thousands_separators_and_one_decimal_amounts_are_read() -> None:
    alert = parse_budget_notification(_letter("ACTUAL", "$12,000.00", "$12,345.5", budgeted="$12,000.00"))
    assert (alert.threshold_usd, alert.amount_usd, alert.limit_usd) == (12_000.0, 12_345.5, 12_000.0)


def test_unknown_lines_and_windows_line_ends_are_ignored() -> None:
    text = _letter("ACTUAL", "$250.00", "$260.00").replace("\n", "\r\n")
    text = text.replace("Budget Type: Cost", "Budget Type: Cost\r\nCost Filters: Service: AWS Lambda")
    assert parse_budget_notification(text).amount_usd == 260.0


def test_a_percentage_threshold_in_a_hand_written_test_message_becomes_dollars() -> None:
    text = "Budget Name: demo\nBudgeted Amount: $100.00\nAlert Type: ACTUAL\nAlert Threshold: 80%\nACTUAL Amount: $85.00"
    assert parse_budget_notification(text).threshold_usd == 80.0


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        (
            '{"type": "JobCompleted", "version": 1}',
            "This is not an AWS Budgets notification: it has no `Budget Name:` line. Expected lines like "
            "`Budget Name: studiobot-prod-monthly`, `Alert Type: ACTUAL`, `Budgeted Amount: $500.00`.",
        ),
        (
            "Budget Name: b\nBudgeted Amount: $5\nAlert Type: SOMETIMES\nAlert Threshold: > $1\n",
            "Budget `b`'s notification has `Alert Type: SOMETIMES`: "
            "expected `Alert Type: ACTUAL` or `Alert Type: FORECASTED`.",
        ),
        (
            "Budget Name: b\nBudgeted Amount: $5\nAlert Type: ACTUAL\nAlert Threshold: > $1\n",
            "Budget `b`'s notification has no `ACTUAL Amount:` line: expected e.g. `ACTUAL Amount: $1,234.56`.",
        ),
        (
            "Budget Name: b\nBudgeted Amount: lots\nAlert Type: ACTUAL\n",
            "Budget `b`'s `Budgeted Amount: lots` is not an amount: expected e.g. `Budgeted Amount: $1,234.56`.",
        ),
        (
            "Budget Name: hours\nBudget Type: Usage\nBudgeted Amount: 100.000 Hrs\nAlert Type: ACTUAL\n",
            "Budget `hours` is a Usage budget: studiobot reads cost budgets only (`Budget Type: Cost`).",
        ),
    ],
)
def test_text_that_is_not_a_cost_budget_notification_is_refused_with_a_sentence(
    text: str, sentence: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        parse_budget_notification(text)
    assert str(raised.value) == sentence
