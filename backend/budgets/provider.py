"""AWS Budgets adapter: the account's budgets with their limit, actual spend and forecast."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from backend.aws.base import AwsAdapter, error_code


@dataclass(frozen=True)
class Budget:
    """One budget as AWS Budgets describes it, for the current period."""

    name: str
    limit: float
    actual: float
    forecast: float | None  # AWS has no forecast for a budget until it has seen some spend
    unit: str = "USD"  # a cost budget's; a usage budget counts hours, GB…
    time_unit: str = "MONTHLY"

    @property
    def percent_used(self) -> float | None:
        """Actual spend as a percentage of the limit (None for a zero limit)."""
        return 100 * self.actual / self.limit if self.limit > 0 else None


class _Sts(AwsAdapter):
    """Who the credentials are: the one thing the Budgets adapter needs of STS (its client made on first use)."""

    service = "sts"
    label = "STS"

    def account_id(self) -> str:
        try:
            return str(self.client.get_caller_identity()["Account"])
        except ClientError as error:
            raise self.aws_error(error, "find this AWS account") from error


class AwsBudgets(AwsAdapter):
    """Lists the account's budgets; the account id (which the Budgets API wants) is asked of STS once."""

    service = "budgets"
    label = "AWS Budgets"
    reasons: ClassVar[Mapping[str, str]] = {
        "AccessDeniedException": (
            "studiobot's role may not read budgets: ask an admin to allow `budgets:ViewBudget`"
        ),
        "ThrottlingException": "AWS Budgets is busy right now: try again in a minute",
    }

    def __init__(self, client: Any | None = None, sts: Any | None = None) -> None:
        super().__init__(client)
        self._sts = _Sts(sts)
        self._account_id = ""
        self.calls = 0  # AWS calls made, for tests

    @property
    def account_id(self) -> str:
        if not self._account_id:
            self.calls += 1
            self._account_id = self._sts.account_id()
        return self._account_id

    def all(self) -> list[Budget]:
        """Every budget of the account, sorted by name (paginated describe)."""
        found: list[Budget] = []
        try:
            for page in self.client.get_paginator("describe_budgets").paginate(AccountId=self.account_id):
                self.calls += 1
                found.extend(_budget(item) for item in page.get("Budgets", []))
        except ClientError as error:
            if error_code(error) == "NotFoundException":
                return []  # an account without budgets
            raise self.aws_error(error, "read the budgets") from error
        return sorted(found, key=lambda budget: budget.name)


def _budget(item: dict[str, Any]) -> Budget:
    limit = item.get("BudgetLimit", {})
    spend = item.get("CalculatedSpend", {})
    forecast = spend.get("ForecastedSpend")
    return Budget(
        name=item["BudgetName"],
        limit=float(limit.get("Amount", 0)),
        actual=float(spend.get("ActualSpend", {}).get("Amount", 0)),
        forecast=float(forecast["Amount"]) if forecast else None,
        unit=limit.get("Unit", "USD"),
        time_unit=item.get("TimeUnit", "MONTHLY"),
    )
