"""Which Slack workspaces refused a table block (`invalid_blocks`), remembered where it outlives a Lambda invocation:
one item per workspace in the jobs table (`pk=SLACK#<team id>, sk=TABLE_BLOCKS`), written once by a conditional put,
so each workspace is tried with a table once and answered with code blocks from then on."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar
from weakref import WeakKeyDictionary

from botocore.exceptions import BotoCoreError, ClientError

from backend.aws.base import AwsAdapter, error_code

if TYPE_CHECKING:
    from bot.services import Services

logger = logging.getLogger(__name__)


def refusal_key(team: str) -> dict[str, Any]:
    """The key of a workspace's refusal."""
    return {"pk": {"S": f"SLACK#{team}"}, "sk": {"S": "TABLE_BLOCKS"}}


class DynamoTableRefusals(AwsAdapter):
    """The workspaces whose Slack refused a table block, in the jobs table (kept for good: a refusal is a fact of
    the workspace's plan or client, not of a moment)."""

    service: ClassVar[str] = "dynamodb"
    label: ClassVar[str] = "DynamoDB"

    def __init__(
        self, table_name: str, client: Any | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(client)
        self.table_name = table_name
        self._clock = clock
        self._known: set[str] = set()  # refusals this process has read or written: they never go back

    def refused(self, team: str) -> bool:
        """Whether Slack refused a table block in `team` before (False when DynamoDB cannot tell: a table is tried)."""
        if team in self._known:
            return True
        try:
            response = self.client.get_item(TableName=self.table_name, Key=refusal_key(team))
        except ClientError as error:
            logger.warning(
                "Could not read whether workspace %s refuses table blocks: %s", team, error_code(error)
            )
            return False
        if "Item" in response:
            self._known.add(team)
        return team in self._known

    def remember(self, team: str) -> None:
        """Note that Slack refused a table block in `team` (once: the first writer's note stays)."""
        self._known.add(team)
        item = {**refusal_key(team), "team_id": {"S": team}, "refused_at": {"N": repr(self._clock())}}
        try:
            self.client.put_item(
                TableName=self.table_name, Item=item, ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                logger.warning(
                    "Could not note that workspace %s refuses table blocks: %s", team, error_code(error)
                )


def _said(error: ClientError | BotoCoreError) -> str:
    return error_code(error) if isinstance(error, ClientError) else type(error).__name__


_STORES: WeakKeyDictionary[Services, DynamoTableRefusals] = WeakKeyDictionary()


def table_refusals(services: Services) -> DynamoTableRefusals:
    """The refusals beside the services' jobs: one store (and one client) per services, not one a command."""
    store = _STORES.get(services)
    if store is None:
        store = _STORES[services] = DynamoTableRefusals(services.settings.table_name, clock=services.clock)
    return store
