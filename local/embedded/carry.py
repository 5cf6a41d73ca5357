"""After `up` has deployed `infra/resources.yml` afresh, the saved state (`local.embedded.persistence`) is carried over: the
saved S3 objects, DynamoDB items and SQS messages move into the buckets, tables and queues of the same names; services
the template makes nothing in come back as they were. Messages that were in flight are visible again."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from local.embedded.persistence import NEVER_SAVED, Backends
from local.embedded.stack import CLI_FEED_PREFIX


@dataclass
class Carried:
    """What `carry_over` brought back, for the stack log and `studiobot up`."""

    objects: int = 0
    items: int = 0
    messages: int = 0
    in_flight: int = 0
    services: list[str] = field(default_factory=list)  # restored as they were (EC2's workstations, say)
    left_behind: list[str] = field(default_factory=list)

    def sentence(self) -> str:
        messages = f"{self.messages} message(s)"
        if self.in_flight:
            messages += f" ({self.in_flight} in flight, visible again)"
        text = f"{self.objects} S3 object(s), {self.items} DynamoDB item(s), {messages}"
        if self.left_behind:
            text += f"; left behind: {', '.join(self.left_behind)}"
        return text


def made_by_template(template: str) -> frozenset[str]:
    """moto's names of the services a template makes resources in (`AWS::SQS::Queue` → `sqs`), CloudFormation too."""
    return frozenset(name.lower() for name in re.findall(r"AWS::(\w+)::\w+", template)) | NEVER_SAVED


def carry_over(saved: Backends, remade: frozenset[str]) -> Carried:
    """Bring the saved state into moto, after `up` has deployed the template again (see the module's docstring)."""
    from moto.backends import get_backend

    carried = Carried()
    for service, accounts in saved.items():
        graft = _GRAFTS.get(service)
        if graft is None and service in remade:
            continue  # the template's resources as deployed just now, not as they were
        live = get_backend(service)  # type: ignore[call-overload]
        for account, regions in accounts.items():
            for region, backend in regions.items():
                if graft is not None:
                    graft(backend, live[account][region], carried)
                else:
                    live[account][region] = backend
        if graft is None:
            carried.services.append(service)
    return carried


def _carry_s3(saved: Any, live: Any, carried: Carried) -> None:
    from moto.s3.models import s3_backends

    for name, bucket in saved.buckets.items():
        target = live.buckets.get(name)
        if target is None:  # not the template's: back as it was
            live.buckets[name] = bucket
            s3_backends.bucket_accounts[name] = (bucket.partition, bucket.account_id)
        else:
            target.keys, target.multiparts = bucket.keys, bucket.multiparts
        carried.objects += len(bucket.keys)


def _carry_dynamodb(saved: Any, live: Any, carried: Carried) -> None:
    for name, table in saved.tables.items():
        target = live.tables.get(name)
        if target is None:
            live.tables[name] = table
        elif (target.hash_key_attr, target.range_key_attr) != (table.hash_key_attr, table.range_key_attr):
            carried.left_behind.append(f"the items of table {name} (the template changed its keys)")
            continue
        else:
            target.items = table.items  # indexes are the template's: moto reads them off the items
        carried.items += (
            sum(len(ranged) for ranged in table.items.values()) if table.range_key_attr else len(table.items)
        )


def _carry_sqs(saved: Any, live: Any, carried: Carried) -> None:
    for name, queue in saved.queues.items():
        if name.startswith(CLI_FEED_PREFIX):
            continue  # the feed of a CLI that was watching: it went with the stack it watched
        target = live.queues.get(name)
        if target is None:
            live.queues[name] = target = queue
        else:
            target._messages = queue._messages
        target._pending_messages = set()
        for message in target._messages:
            if not message.visible:
                message.change_visibility(0)
                carried.in_flight += 1
        carried.messages += len(target._messages)


_GRAFTS: dict[str, Callable[[Any, Any, Carried], None]] = {
    "s3": _carry_s3,
    "dynamodb": _carry_dynamodb,
    "sqs": _carry_sqs,
}
