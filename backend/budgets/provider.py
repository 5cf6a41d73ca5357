"""AWS Budgets adapter: the account's budgets with their limit, actual spend and forecast."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError

from backend.errors import AwsError


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


class AwsBudgets:
    """Lists the account's budgets; the account id (which the Budgets API wants) is asked of STS once."""

    def __init__(self, client: Any | None = None, sts: Any | None = None) -> None:
        self._client = client
        self._sts = sts
        self._account_id = ""
        self.calls = 0  # AWS calls made, for tests

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = boto3.client("budgets")
        return self._client

    @property
    def account_id(self) -> str:
        if not self._account_id:
            if self._sts is None:
                self._sts = boto3.client("sts")
            try:
                self.calls += 1
                self._account_id = str(self._sts.get_caller_identity()["Account"])
            except ClientError as error:
                raise _aws(error, "find this AWS account") from error
        return self._account_id

    def all(self) -> list[Budget]:
        """Every budget of the account, sorted by name (paginated describe)."""
        found: list[Budget] = []
        try:
            for page in self.client.get_paginator("describe_budgets").paginate(AccountId=self.account_id):
                self.calls += 1
                found.extend(_budget(item) for item in page.get("Budgets", []))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "NotFoundException":
                return []  # an account without budgets
            raise _aws(error, "read the budgets") from error
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


_FRIENDLY = {
    "AccessDeniedException": "studiobot's role may not read budgets: ask an admin to allow `budgets:ViewBudget`",
    "ThrottlingException": "AWS Budgets is busy right now: try again in a minute",
}


def _aws(error: ClientError, doing: str) -> AwsError:
    code = str(error.response.get("Error", {}).get("Code", ""))
    reason = _FRIENDLY.get(code, f"AWS said {code}")
    return AwsError(f"Could not {doing}: {reason}.", code)
