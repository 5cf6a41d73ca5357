"""Budgets from Slack and from AWS Budgets: what each budget has spent, and the over-budget guard turned on or off.

The guard goes on by itself when AWS Budgets says actual spend reached a budget's limit (`record_alert`), and an
admin turns it on or off with `/budget guard on|off`. Every change is announced once as `BudgetGuardChanged`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from backend.budgets.ports import BudgetProvider, Guard
from backend.budgets.stopping import FarmStopper, Stopped
from backend.config import Access
from backend.errors import ConflictError
from backend.events import BudgetAlert, BudgetGuardChanged, EventPublisher
from backend.people import mention

if TYPE_CHECKING:  # Slack's ack path asks `guard_refusal`: this module must not load boto3
    from backend.budgets.guard import GuardState
    from backend.budgets.provider import Budget

AWS_BUDGETS = "AWS Budgets"  # who turned the guard on, when it was not a person


@dataclass(frozen=True)
class BudgetStatus:
    """`/budget status`: every budget, and the guard."""

    budgets: list[Budget]
    guard: GuardState


def over_limit(alert: BudgetAlert) -> bool:
    """Actual spend (not a forecast) has reached the budget's limit."""
    return alert.alert_type == "ACTUAL" and alert.amount_usd >= alert.limit_usd


def guard_reason(alert: BudgetAlert) -> str:
    """Why AWS Budgets turned the guard on, in the words the channel reads."""
    return f"`{alert.budget_name}` has spent ${alert.amount_usd:,.2f} of its ${alert.limit_usd:,.2f} budget"


def record_alert(
    alert: BudgetAlert, events: EventPublisher, guard: Guard, stop: Callable[[], Stopped] | None = None
) -> bool:
    """Publish the alert; actual spend at or over the limit turns the guard on, and `stop` carries out the
    `budget_action` (holds or cancels the jobs still going). True when this call turned it on (a second delivery
    of the same notification finds it on and says nothing more)."""
    events.publish(alert)
    if not over_limit(alert):
        return False
    return turn_and_tell(guard, events, True, AWS_BUDGETS, guard_reason(alert), stop)


def turn_and_tell(
    guard: Guard,
    events: EventPublisher,
    on: bool,
    by: str,
    reason: str,
    stop: Callable[[], Stopped] | None = None,
) -> bool:
    """Turn the guard, `stop` the farm if asked, and publish `BudgetGuardChanged` once, listing the jobs held or
    cancelled. If stopping or publishing fails the guard is turned back, so the retry (SNS's redelivery, or the
    person trying again) changes it and tells it then; nothing changes untold."""
    before = guard.state()
    if not guard.turn(on, by, reason):
        return False
    try:
        stopped = stop() if stop is not None else None
        action = stopped.action if stopped is not None else ""
        held, cancelled = (list(stopped.held), list(stopped.cancelled)) if stopped is not None else ([], [])
        changed = BudgetGuardChanged(on, by, reason, action=action, held=held, cancelled=cancelled)
        events.publish(changed)
    except Exception:
        guard.turn(before.on, before.by, before.reason)
        raise
    return True


def guard_refusal(access: Access, user: str) -> str | None:
    """Why this user may not turn the guard on or off, or None for an admin."""
    if user in access.admins:
        return None
    if not access.admins:
        return (
            "Only a studio admin can turn the budget guard on or off, and no admin is set: list their Slack IDs "
            "in `STUDIOBOT_ADMINS` (the `admins` deploy param)."
        )
    admins = ", ".join(mention(admin) for admin in sorted(access.admins))
    return (
        f"Only a studio admin can turn the budget guard on or off: ask {admins}. `/budget` shows its state."
    )


class BudgetService:
    """What `/budget` does: show the budgets and the guard; let admins turn the guard on or off."""

    def __init__(
        self,
        budgets: BudgetProvider,
        guard: Guard,
        events: EventPublisher,
        access: Access,
        stopper: FarmStopper | None = None,
    ) -> None:
        self.budgets = budgets
        self.guard = guard
        self.events = events
        self.access = access
        self.stopper = stopper  # what `budget_action` does to the jobs still going when the guard goes on

    def stop_farm(self) -> Stopped:
        """Carry out `budget_action` on the jobs still going (held, cancelled, or left to ask)."""
        return self.stopper.stop() if self.stopper is not None else Stopped()

    def status(self) -> BudgetStatus:
        """Every budget of the account (one paginated describe) and the guard's state."""
        return BudgetStatus(self.budgets.all(), self.guard.state())

    def turn_guard(self, on: bool, user: str, reason: str = "") -> None:
        """Turn the guard on or off as an admin; the channel hears of it through `BudgetGuardChanged`."""
        refusal = guard_refusal(self.access, user)
        if refusal:
            raise ConflictError(refusal)
        if not turn_and_tell(self.guard, self.events, on, user, reason.strip()):
            raise ConflictError(f"The budget guard is already {'on' if on else 'off'}: nothing to do.")
