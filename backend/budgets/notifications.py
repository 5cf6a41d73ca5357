"""AWS Budgets' notifications (the budget topic → `entry.budget_alerts`) become `BudgetAlert` events; actual spend
at the limit turns the budget guard on (announced once as `BudgetGuardChanged`, however often SNS delivers the notification)."""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools import Logger

from backend.budgets.alerts import parse_budget_notification
from backend.budgets.ports import Guard
from backend.budgets.service import record_alert
from backend.budgets.stopping import Stopped
from backend.errors import ValidationError
from backend.events import EventPublisher

logger = Logger(service="studiobot-budget")


def handle_message(
    message: str, events: EventPublisher, guard: Guard, stop: Callable[[], Stopped] | None = None
) -> bool:
    """One notification's text; True when it turned the guard on (and `stop` held or cancelled the jobs still
    going, by `budget_action`). Text that is not a notification is logged and dropped: a retry could never read
    it, and raising would only make Lambda deliver it again."""
    try:
        alert = parse_budget_notification(message)
    except ValidationError as error:
        logger.warning(
            "dropped a message that is not an AWS Budgets notification",
            reason=str(error),
            text=message[:2000],
        )
        return False
    turned_on = record_alert(alert, events, guard, stop)
    logger.info(
        "budget alert",
        budget=alert.budget_name,
        alert_type=alert.alert_type,
        amount_usd=alert.amount_usd,
        limit_usd=alert.limit_usd,
        guard_turned_on=turned_on,
    )
    return turned_on
