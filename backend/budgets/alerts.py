"""AWS Budgets' SNS notifications, which are plain text (not JSON), read into `BudgetAlert` events.

AWS Budgets publishes a letter to the topic, the same one its e-mails carry. Real deliveries captured in public code
(2023, 2024 and 2026; ACTUAL and FORECASTED, us-east-1, ap-northeast-1 and eu-west-1) all read like this:

    AWS Budget Notification November 21, 2026
    AWS Account 123456789012

    Dear AWS Customer,

    You requested that we alert you when the ACTUAL Cost associated with your studiobot-prod-monthly budget is
    greater than $500.00 for the current month. The ACTUAL Cost associated with this budget is $512.34. …

    Budget Name: studiobot-prod-monthly
    Budget Type: Cost
    Budgeted Amount: $500.00
    Alert Type: ACTUAL
    Alert Threshold: > $500.00
    ACTUAL Amount: $512.34

    [1] https://console.aws.amazon.com/costmanagement/home#/budgets

The threshold is in dollars (the notification's percentage of the budget), a forecast's amount line is
`FORECASTED Amount:`, and amounts have been seen with one decimal (`$0.5`). The `Key: value` lines are what this
module reads; the prose around them is ignored, as are lines it does not know, so a reworded letter still parses.
`tests/events/sns_budget_notification.json` is a whole SNS → Lambda record.
"""

from __future__ import annotations

import re

from backend.errors import ValidationError
from backend.events import BudgetAlert

ALERT_TYPES = ("ACTUAL", "FORECASTED")
_AMOUNT = re.compile(r"\d[\d,]*(?:\.\d+)?|\.\d+")
_EXAMPLE = "`Budget Name: studiobot-prod-monthly`, `Alert Type: ACTUAL`, `Budgeted Amount: $500.00`"


def parse_budget_notification(text: str) -> BudgetAlert:
    """Read an AWS Budgets notification; ValidationError with a sentence for text that is not one."""
    lines = _lines(text)
    name = lines.get("budget name", "")
    if not name:
        raise ValidationError(
            f"This is not an AWS Budgets notification: it has no `Budget Name:` line. Expected lines like {_EXAMPLE}."
        )
    budget_type = lines.get("budget type", "Cost")
    if budget_type.lower() != "cost":
        raise ValidationError(
            f"Budget `{name}` is a {budget_type} budget: studiobot reads cost budgets only (`Budget Type: Cost`)."
        )
    alert_type = lines.get("alert type", "").upper()
    if alert_type not in ALERT_TYPES:
        raise ValidationError(
            f"Budget `{name}`'s notification has `Alert Type: {lines.get('alert type', '')}`: "
            f"expected `Alert Type: ACTUAL` or `Alert Type: FORECASTED`."
        )
    limit = _dollars(lines, "budgeted amount", name)
    threshold_text = lines.get("alert threshold", "")
    if threshold_text.rstrip().endswith("%"):  # a hand-written test message; AWS itself says dollars
        threshold = limit * _number(threshold_text, "Alert Threshold", name) / 100
    else:
        threshold = _dollars(lines, "alert threshold", name)
    return BudgetAlert(
        budget_name=name,
        alert_type=alert_type,
        threshold_usd=threshold,
        amount_usd=_dollars(lines, f"{alert_type.lower()} amount", name),
        limit_usd=limit,
    )


def _lines(text: str) -> dict[str, str]:
    """`Key: value` lines by lower-case key (the first of each wins); prose and unknown lines come along unused."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        key, colon, value = line.partition(":")
        if colon and key.strip() and value.strip():
            found.setdefault(" ".join(key.split()).lower(), value.strip())
    return found


def _dollars(lines: dict[str, str], key: str, name: str) -> float:
    label = key.title().replace("Actual", "ACTUAL").replace("Forecasted", "FORECASTED")
    if key not in lines:
        raise ValidationError(
            f"Budget `{name}`'s notification has no `{label}:` line: expected e.g. `{label}: $1,234.56`."
        )
    return _number(lines[key], label, name)


def _number(value: str, label: str, name: str) -> float:
    match = _AMOUNT.search(value)
    if match is None:
        raise ValidationError(
            f"Budget `{name}`'s `{label}: {value}` is not an amount: expected e.g. `{label}: $1,234.56`."
        )
    return float(match[0].replace(",", ""))
