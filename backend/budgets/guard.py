"""The over-budget guard: one item in the jobs table (`pk=SETTINGS, sk=BUDGET_GUARD`), changed by conditional
writes only, so a notification AWS Budgets delivers twice (or two admins pressing at once) changes it once.

While it is on, new renders wait for an admin's approval (`backend/render/submit.py`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from backend.aws.base import AwsAdapter, error_code

GUARD_PARTITION = "SETTINGS"
_KEY = {"pk": {"S": GUARD_PARTITION}, "sk": {"S": "BUDGET_GUARD"}}


@dataclass(frozen=True)
class GuardState:
    on: bool = False
    by: str = ""
    reason: str = ""
    changed_at: float = 0.0


class BudgetGuard(AwsAdapter):
    """Reads and turns the guard; `turn` answers whether this call changed it."""

    service = "dynamodb"
    label = "DynamoDB"

    def __init__(
        self, table_name: str, client: Any | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(client)
        self.table_name = table_name
        self.clock = clock

    def state(self) -> GuardState:
        try:
            item = self.client.get_item(TableName=self.table_name, Key=_KEY, ConsistentRead=True).get("Item")
        except ClientError as error:
            raise self.aws_error(error, "read the budget guard") from error
        if not item:
            return GuardState()
        return GuardState(
            on=item["on"]["BOOL"],
            by=item.get("by", {}).get("S", ""),
            reason=item.get("reason", {}).get("S", ""),
            changed_at=float(item.get("changed_at", {}).get("N", "0")),
        )

    def turn(self, on: bool, by: str, reason: str = "") -> bool:
        """Turn the guard on or off; False (and nothing written) when it already was."""
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item={
                    **_KEY,
                    "on": {"BOOL": on},
                    "by": {"S": by},
                    "reason": {"S": reason},
                    "changed_at": {"N": repr(self.clock())},
                },
                # no item reads as "off": turning on needs none or an off one, turning off needs an on one
                ConditionExpression="attribute_not_exists(pk) OR #on = :was" if on else "#on = :was",
                ExpressionAttributeNames={"#on": "on"},
                ExpressionAttributeValues={":was": {"BOOL": not on}},
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise self.aws_error(error, "change the budget guard") from error
        return True
