"""The over-budget guard changes once per real change, however often it is asked to."""

from __future__ import annotations

from backend.budgets.guard import BudgetGuard

from .conftest import Stack


def test_the_guard_is_off_until_turned_on_and_each_change_happens_once(stack: Stack) -> None:
    guard = BudgetGuard(stack.settings.table_name, clock=lambda: 1_700_000_000.0)
    assert guard.state().on is False
    assert guard.turn(False, "U0ADMIN") is False  # already off: nothing to say
    assert guard.turn(True, "AWS Budgets", "studiobot-prod-monthly: $512.00 of $500.00") is True
    assert guard.turn(True, "AWS Budgets", "delivered again") is False
    state = guard.state()
    assert state.on and state.by == "AWS Budgets" and state.reason.startswith("studiobot-prod-monthly")
    assert state.changed_at == 1_700_000_000.0
    assert guard.turn(False, "U0ADMIN") is True
    assert guard.turn(False, "U0OTHERADMIN") is False
    assert guard.state().by == "U0ADMIN"
