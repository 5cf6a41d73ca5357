"""A person's Home tab published (`views.publish`) when they open it and again on their jobs' and workstations'
events, at most once per `HOME_INTERVAL_S` a person across every process: the last publish is an item of the jobs
table (`pk=HOME#<user>`), claimed by one conditional write as the cards' updates are (`bot.cards`). Events refresh
only the Home of someone who opened it. A Slack or AWS error here is logged and never stops the caller."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from weakref import WeakKeyDictionary

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from backend.aws.base import error_code
from backend.budgets.provider import Budget
from backend.events import (
    Event,
    JobCompleted,
    SessionExpiring,
    SessionExtended,
    SessionKept,
    SessionStopped,
    WorkstationAlert,
)
from backend.render.home import HomeFacts, KnownBudgets
from backend.render.store.items import PURGE_ATTRIBUTE
from backend.render.store.table import HistoryItems
from backend.render.tasks import CPU, GPU
from bot.messages.home import home_view
from bot.messages.text import is_user_id

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.services import Services

logger = Logger(service="studiobot-home")
HOME_INTERVAL_S = 10.0  # one publish a person at most this often (Slack's rate for `views.publish` per user)
KNOWN_BUDGETS = 20  # budgets remembered for an event's refresh (the Home lists 5, and counts the rest)
OWNED = (SessionExpiring, SessionStopped, SessionExtended, SessionKept, WorkstationAlert)  # a workstation's
# An event no other follows soon (a job's end, a session stopped): told even when a publish came just before it,
# once the interval has passed (a publish by anyone meanwhile shows it already).
LAST_WORDS = (JobCompleted, SessionStopped)
SPACING_MARGIN_S = 0.25  # clocks differ a little: keep clear of the interval's line


@dataclass(frozen=True)
class Claimed:
    """Whether this caller publishes a person's Home now; if not, how long until one may (0: never, for an event:
    they never opened it)."""

    ours: bool
    wait_s: float = 0.0
    known: KnownBudgets | None = None  # the budgets as read when they last opened it (for an event's refresh)


class HomeClaims(Protocol):
    """Who may publish a person's Home now: one caller per interval (`DynamoHomeClaims`)."""

    def claim(self, user: str, interval_s: float, opened: bool) -> Claimed: ...
    def remember(self, user: str, budgets: list[Budget]) -> None: ...


def home_key(user: str) -> dict[str, Any]:
    """The key of a person's Home item."""
    return {"pk": {"S": f"HOME#{user}"}, "sk": {"S": "HOME"}}


class DynamoHomeClaims(HistoryItems):
    """When each person's Home was opened and last published, in the jobs table (kept as long as the jobs)."""

    def claim(self, user: str, interval_s: float, opened: bool) -> Claimed:
        """Whether this caller publishes `user`'s Home now: none did within `interval_s`, and (for an event,
        `opened` False) they opened it once; the claim is the publish's time. Refused, the item as it was says
        how long the interval has left."""
        now = self._clock()
        values = {
            ":now": {"N": repr(now)},
            ":cutoff": {"N": repr(now - interval_s)},
            ":purge": {"N": str(int(now + self._history_s))},
        }
        update = f"SET published_at = :now, {PURGE_ATTRIBUTE} = :purge" + (
            ", opened_at = :now" if opened else ""
        )
        condition = "(attribute_not_exists(published_at) OR published_at <= :cutoff)"
        if not opened:
            condition = f"attribute_exists(opened_at) AND {condition}"
        try:
            response = self.client.update_item(
                TableName=self.table_name,
                Key=home_key(user),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise self.aws_error(error, "note the Home tab's publish") from error
            item = error.response.get("Item") or {}
            if "opened_at" not in item and not opened:
                return Claimed(False)
            published = float(item.get("published_at", {}).get("N", "0"))
            return Claimed(False, max(0.0, published + interval_s - now))
        return Claimed(True, known=_known(response.get("Attributes", {})))

    def remember(self, user: str, budgets: list[Budget]) -> None:
        """Keep the budgets just read for the refreshes of `user`'s Home until they open it again."""
        fields = ("name", "limit", "actual", "forecast", "unit", "time_unit")
        listed = [{name: getattr(budget, name) for name in fields} for budget in budgets[:KNOWN_BUDGETS]]
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=home_key(user),
                UpdateExpression="SET budgets = :budgets, budgets_at = :now",
                ExpressionAttributeValues={
                    ":budgets": {"S": json.dumps(listed)},
                    ":now": {"N": repr(self._clock())},
                },
            )
        except ClientError as error:
            raise self.aws_error(error, "note the Home tab's budgets") from error


def _known(item: dict[str, Any]) -> KnownBudgets | None:
    """The budgets an item remembers; None when it has none (or none that can be read)."""
    try:
        listed = json.loads(item["budgets"]["S"])
        return KnownBudgets([Budget(**fields) for fields in listed], float(item["budgets_at"]["N"]))
    except (KeyError, ValueError, TypeError):
        return None


_FACTS: WeakKeyDictionary[Services, HomeFacts] = WeakKeyDictionary()
_CLAIMS: WeakKeyDictionary[Services, DynamoHomeClaims] = WeakKeyDictionary()


def home_facts(services: Services) -> HomeFacts:
    """The Home's facts from the services' parts, built once per services (like `bot.cards.card_store`)."""
    facts = _FACTS.get(services)
    if facts is None:
        from backend.aws.queue_depths import QueueDepths

        settings = services.settings
        lanes = {
            CPU: list(settings.lanes.urls(settings.render_queue_url, gpu=False).values()),
            GPU: list(settings.lanes.urls(settings.gpu_queue_url, gpu=True).values()),
        }
        budgets = services.budgets  # its provider (AWS Budgets, read on opening only) and its guard
        facts = _FACTS[services] = HomeFacts(
            services.jobs, lanes, QueueDepths(), services.roster, services.workstations, budgets.budgets,
            budgets.guard, services.clock,
        )  # fmt: skip
    return facts


def home_claims(services: Services) -> DynamoHomeClaims:
    """The Home items beside the services' jobs, on their clock."""
    claims = _CLAIMS.get(services)
    if claims is None:
        settings = services.settings
        claims = _CLAIMS[services] = DynamoHomeClaims(
            settings.table_name, clock=services.clock, history_days=settings.limits.job_history_days
        )
    return claims


class HomeTabs:
    """Publishes people's Home tabs; every publish passes the claim first."""

    def __init__(
        self,
        client: WebClient,
        services: Services,
        claims: HomeClaims | None = None,
        facts: HomeFacts | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.services = services
        self._claims = claims
        self._facts = facts
        self.sleep = sleep

    def opened(self, user: str) -> bool:
        """`user` opened their Home: publish it (unless it was within the interval), asking their workstations."""
        return self._publish(user, opened=True)

    def refresh(self, user: str, last_word: bool = False) -> bool:
        """Something of `user`'s changed: publish their Home if they opened it and the interval allows; a
        `last_word` waits out the interval instead of leaving it to the next event."""
        return self._publish(user, opened=False, last_word=last_word)

    def after(self, event: Event) -> None:
        """After the notifier told `event`: refresh the Home of whose job or workstation it is."""
        try:
            user = self._whose(event)
        except Exception as error:
            logger.warning("whose Home not found", event_type=event.type, error=repr(error))
            return
        if user:
            self.refresh(user, last_word=isinstance(event, LAST_WORDS))

    def _whose(self, event: Event) -> str:
        """The Slack user whose workstation or job the event is about ("" for none, or not a Slack user)."""
        if isinstance(event, OWNED):
            user = event.owner
        elif requested_by := str(getattr(event, "requested_by", "")):  # a job's event names its submitter
            user = requested_by
        elif job_id := str(getattr(event, "job_id", "")):  # a node's event about a job, or an older event
            user = self.services.announcer.current(job_id).requested_by
        else:
            return ""
        return user if is_user_id(user) else ""

    def _publish(self, user: str, opened: bool, last_word: bool = False) -> bool:
        """Publish `user`'s Home once the claim is ours; False when it is not, or Slack or AWS refused."""
        try:
            claims = self._claims or home_claims(self.services)
            claimed = claims.claim(user, HOME_INTERVAL_S, opened)
            if not claimed.ours and last_word and claimed.wait_s > 0:
                self.sleep(claimed.wait_s + SPACING_MARGIN_S)
                claimed = claims.claim(user, HOME_INTERVAL_S, opened)
            if not claimed.ours:
                return False
            facts = self._facts or home_facts(self.services)
            home = facts.home(user, opened, claimed.known)
            self.client.views_publish(user_id=user, view=home_view(home, self.services.settings.costs))
            if opened and home.spend is not None:
                claims.remember(user, home.spend.budgets)
        except Exception as error:  # the event (or the listener) goes on: the next one tries again
            logger.warning("home not published", user=user, error=repr(error))
            return False
        return True
