"""Budget topic → Lambda (`entry.budget_alerts.handler`): each AWS Budgets notification SNS delivers, read by
`backend.budgets.notifications`."""

from __future__ import annotations

from typing import Any

from backend.budgets.notifications import handle_message
from entry import wiring


def handler(event: dict[str, Any], context: Any) -> None:
    """Read each AWS Budgets notification the topic delivers."""
    # An AWS error raises, so Lambda retries the delivery: the alert may be said twice, the guard changes once.
    services = wiring.from_env()
    for record in event.get("Records", []):
        message = record.get("Sns", {}).get("Message", "")
        handle_message(message, services.events, services.guard, services.budgets.stop_farm)
