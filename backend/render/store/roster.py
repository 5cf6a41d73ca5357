"""Which render nodes are there: each node (Batch's, the local stack's, an artist's machine) keeps a small item
fresh while it polls or renders, and removes it when it leaves. A `--on gpu` job with no node to take it and none
that can be started is refused at submission instead of waiting in silence."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any, ClassVar, Protocol

from botocore.exceptions import ClientError

from backend.aws.base import AwsAdapter
from backend.errors import AwsError
from backend.render.store.items import PURGE_ATTRIBUTE

ROSTER_KEY = "NODES"  # one partition: a handful of nodes, and the gpu jobs no node has taken yet
WAITING = "waiting#"
BEAT_S = 60.0  # how often a node says it is there
FRESH_S = 3 * BEAT_S  # a node not heard from for this long has gone (killed, powered off)
NO_GPU_NODE = (
    "No GPU render node is running to take this job, and this farm does not start them: start one "
    "(`studiobot up --nodes 1 --class gpu` on the local stack, or `studiobot node --class gpu` on a machine with a "
    "GPU), or leave out `--on gpu` (the CPU farm renders it)."
)


class NodePresence(Protocol):
    """Which render nodes of a class are there now (`NodeRoster`)."""

    def present(self, render_class: str) -> list[str]: ...
    def watch(self, job_id: str) -> None: ...


def a_node_can_come(launcher: object | None, presence: NodePresence | None, render_class: str) -> bool:
    """True where nodes are started for a job (`launcher`: Batch), one is there, or nobody can tell ("unknown"
    is never "none": a roster that cannot be read refuses nothing)."""
    if launcher is not None or presence is None:
        return True
    try:
        return bool(presence.present(render_class))
    except AwsError:
        return True


class NodeRoster(AwsAdapter):
    """The nodes of each render class that said they are there within `FRESH_S` (DynamoDB, the jobs table)."""

    service: ClassVar[str] = "dynamodb"
    label: ClassVar[str] = "DynamoDB"

    def __init__(
        self, table_name: str, client: Any | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(client)
        self.table_name = table_name
        self.clock = clock

    def seen(self, render_class: str, name: str) -> None:
        """Node `name` of `render_class` is here now (its item expires by TTL if it never says so again)."""
        now = self.clock()
        item = {
            "pk": {"S": ROSTER_KEY},
            "sk": {"S": f"{render_class}#{name}"},
            "seen_at": {"N": str(round(now, 3))},
            PURGE_ATTRIBUTE: {"N": str(int(now + 86_400))},
        }
        try:
            self.client.put_item(TableName=self.table_name, Item=item)
        except ClientError as error:
            raise self.aws_error(error, "saying a render node is here") from None

    def left(self, render_class: str, name: str) -> None:
        """Node `name` has left: no job counts on it."""
        key = {"pk": {"S": ROSTER_KEY}, "sk": {"S": f"{render_class}#{name}"}}
        try:
            self.client.delete_item(TableName=self.table_name, Key=key)
        except ClientError as error:
            raise self.aws_error(error, "saying a render node left") from None

    def present(self, render_class: str) -> list[str]:
        """The names of the class's nodes heard from within `FRESH_S`."""
        since = self.clock() - FRESH_S
        try:
            items = self.client.query(
                TableName=self.table_name,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :class)",
                ExpressionAttributeValues={":pk": {"S": ROSTER_KEY}, ":class": {"S": f"{render_class}#"}},
                ConsistentRead=True,
            ).get("Items", [])
        except ClientError as error:
            raise self.aws_error(error, "reading which render nodes are here") from None
        return [item["sk"]["S"].split("#", 1)[1] for item in items if float(item["seen_at"]["N"]) >= since]

    def watch(self, job_id: str) -> None:
        """A gpu job was queued now: the sweep looks at it again once it has waited (`waiting_before`); never
        fails the submission (the job is queued by now)."""
        now = self.clock()
        item = {
            "pk": {"S": ROSTER_KEY},
            "sk": {"S": f"{WAITING}{job_id}"},
            "seen_at": {"N": str(round(now, 3))},
            PURGE_ATTRIBUTE: {"N": str(int(now + 7 * 86_400))},
        }
        with contextlib.suppress(ClientError):  # the job renders when a node comes; only the notice is lost
            self.client.put_item(TableName=self.table_name, Item=item)

    def waiting_before(self, cutoff: float) -> list[tuple[str, float]]:
        """The watched gpu jobs queued before `cutoff`, with when."""
        try:
            items = self.client.query(
                TableName=self.table_name,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :waiting)",
                ExpressionAttributeValues={":pk": {"S": ROSTER_KEY}, ":waiting": {"S": WAITING}},
            ).get("Items", [])
        except ClientError as error:
            raise self.aws_error(error, "reading the gpu jobs no node has taken") from None
        since = [(item["sk"]["S"].removeprefix(WAITING), float(item["seen_at"]["N"])) for item in items]
        return [(job_id, at) for job_id, at in since if at < cutoff]

    def unwatch(self, job_id: str) -> None:
        """Stop watching the job (taken, finished, or told)."""
        key = {"pk": {"S": ROSTER_KEY}, "sk": {"S": f"{WAITING}{job_id}"}}
        try:
            self.client.delete_item(TableName=self.table_name, Key=key)
        except ClientError as error:
            raise self.aws_error(error, "forgetting a gpu job's wait") from None
