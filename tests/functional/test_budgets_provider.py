"""The AWS Budgets adapter against moto: every budget with its limit and spend; the account id asked once."""

from __future__ import annotations

import boto3

from backend.budgets.provider import AwsBudgets, Budget

from .conftest import Stack


def create_budget(name: str, amount: str, unit: str = "USD", budget_type: str = "COST") -> None:
    """A budget as `infra/aws-resources.yml` declares one (moto keeps spend at 0)."""
    boto3.client("budgets").create_budget(
        AccountId=boto3.client("sts").get_caller_identity()["Account"],
        Budget={
            "BudgetName": name,
            "BudgetLimit": {"Amount": amount, "Unit": unit},
            "TimeUnit": "MONTHLY",
            "BudgetType": budget_type,
        },
    )


def test_no_budgets_is_an_empty_list(stack: Stack) -> None:
    assert AwsBudgets().all() == []


def test_every_budget_with_limit_spend_and_forecast_sorted_by_name(stack: Stack) -> None:
    create_budget("studiobot-prod-monthly", "500")
    create_budget("farm-hours", "1000", unit="Hrs", budget_type="USAGE")
    budgets = AwsBudgets()
    assert budgets.all() == [
        Budget(name="farm-hours", limit=1000.0, actual=0.0, forecast=0.0, unit="Hrs"),
        Budget(name="studiobot-prod-monthly", limit=500.0, actual=0.0, forecast=0.0),
    ]
    assert budgets.all()[1].percent_used == 0.0
    assert budgets.calls == 3  # STS once, then one describe per listing


def test_percent_used_is_of_the_limit_and_absent_for_a_zero_limit() -> None:
    assert Budget("b", limit=500.0, actual=512.34, forecast=None).percent_used == 102.468
    assert Budget("b", limit=0.0, actual=3.0, forecast=None).percent_used is None
