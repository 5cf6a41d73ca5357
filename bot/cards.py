"""Where each job's Slack card lives (its channel and ts, the thread's root) and when it last changed: the
notifier's own bookkeeping, so the job record holds the render's facts only.

The cards sit in the jobs table under their own key (`pk=CARD#<job id>, sk=CARD`), which the notifier's role
may read and update and nothing of the render's needs; each goes with the job history's purge. Their
attributes are named apart from the job's (`slack_channel`, not `channel`): no card lands in `by_channel`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol
from weakref import WeakKeyDictionary

from botocore.exceptions import ClientError

from backend.aws.base import error_code
from backend.render.store.items import PURGE_ATTRIBUTE
from backend.render.store.table import HistoryItems

if TYPE_CHECKING:
    from bot.services import Services


@dataclass(frozen=True)
class Card:
    """A job's card: the message to update in place, and the thread every reply about the job goes to."""

    channel: str
    ts: str
    updated_at: float | None = None  # when Slack last took a change to it


class CardStore(Protocol):
    """Where the cards are; each change one conditional write that one caller wins."""

    def card(self, job_id: str) -> Card | None: ...
    def attach(self, job_id: str, channel: str, ts: str) -> Card: ...
    def claim_update(self, job_id: str, interval_s: float) -> Card | None: ...
    def mark_updated(self, job_id: str) -> None: ...


def card_key(job_id: str) -> dict[str, Any]:
    """The key of a job's card."""
    return {"pk": {"S": f"CARD#{job_id}"}, "sk": {"S": "CARD"}}


class DynamoCards(HistoryItems):
    """The cards, in the jobs table, kept as long as the jobs they show."""

    def card(self, job_id: str) -> Card | None:
        """The job's card; None while it has none."""
        try:
            response = self.client.get_item(
                TableName=self.table_name, Key=card_key(job_id), ConsistentRead=True
            )
        except ClientError as error:
            raise self.aws_error(error, "read the job's card") from error
        return _card(response["Item"]) if "Item" in response else None

    def attach(self, job_id: str, channel: str, ts: str) -> Card:
        """Remember the card just posted for a job: the job's card, this one unless another got there first."""
        now = self._clock()
        updated = self._update(
            job_id,
            "SET slack_channel = :channel, slack_ts = :ts, updated_at = :now, job_id = :job, "
            f"{PURGE_ATTRIBUTE} = :purge",
            {
                ":channel": {"S": channel},
                ":ts": {"S": ts},
                ":now": {"N": repr(now)},
                ":job": {"S": job_id},
                ":purge": {"N": str(int(now + self._history_s))},
            },
            "attribute_not_exists(slack_ts)",
        )
        if updated is not None:
            return updated
        first = self.card(job_id)
        assert first is not None  # it was there when the write was refused, and cards are never removed
        return first

    def claim_update(self, job_id: str, interval_s: float) -> Card | None:
        """The card, for at most one caller per interval (the throttle for `chat.update`); None while the job
        has no card or it changed within the interval."""
        now = self._clock()
        return self._update(
            job_id,
            "SET updated_at = :now",
            {":now": {"N": repr(now)}, ":cutoff": {"N": repr(now - interval_s)}},
            "attribute_exists(slack_ts) AND (attribute_not_exists(updated_at) OR updated_at <= :cutoff)",
        )

    def mark_updated(self, job_id: str) -> None:
        """Note when Slack took a change to the card (the final update is not throttled, only spaced)."""
        self._update(
            job_id,
            "SET updated_at = :now",
            {":now": {"N": repr(self._clock())}},
            "attribute_exists(slack_ts)",
        )

    def _update(self, job_id: str, update: str, values: dict[str, Any], condition: str) -> Card | None:
        """The card after a conditional update; None when the condition refused it."""
        try:
            response = self.client.update_item(
                TableName=self.table_name,
                Key=card_key(job_id),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return None
            raise self.aws_error(error, "note the job's card") from error
        return _card(response["Attributes"])


def _card(item: dict[str, Any]) -> Card:
    updated = item.get("updated_at", {}).get("N")
    return Card(
        item["slack_channel"]["S"], item["slack_ts"]["S"], float(Decimal(updated)) if updated else None
    )


_STORES: WeakKeyDictionary[Services, DynamoCards] = WeakKeyDictionary()


def card_store(services: Services) -> DynamoCards:
    """The cards beside the services' jobs, on their clock: one store (and one client) per services, not one a
    command."""
    store = _STORES.get(services)
    if store is None:
        settings = services.settings
        store = _STORES[services] = DynamoCards(
            settings.table_name, clock=services.clock, history_days=settings.limits.job_history_days
        )
    return store
