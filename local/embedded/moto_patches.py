"""Fixes for moto 5.2.5 that the local stack needs where many workers call it at once, and one call it lacks.

1. DynamoDB: moto applies a request in steps (a transaction deep-copies the tables to roll back) with no lock, so
   concurrent writers crash it ("dictionary changed size during iteration") or interleave conditional writes.
   DynamoDB itself applies each request atomically; a lock around moto's DynamoDB requests does the same here.
   Its transactions also deep-copy every table they touch, to roll back on failure: recording a frame then costs
   O(frames ever recorded). Under the lock it is enough to keep the items the transaction names and put them
   back if it fails, which is what this patch does instead.
2. SQS: moto's `send_message` reads `queue.attributes` only to look at ContentBasedDeduplication, but that
   property counts every message in the queue (visible, delayed, in flight) each time. Sending n messages is then
   O(n²): a 10,000-frame job took over 40 minutes to enqueue. While a thread is inside `send_message`, this patch
   answers `queue.attributes` with just that one attribute; everywhere else moto behaves as released.
3. SSM: DescribeInstanceInformation (which workstations Run Command reaches) and ListCommandInvocations (a
   command's answers at once) are not in moto; they are answered from moto's EC2 instances and its commands. Run Command's invocations then succeed with an empty output, which studiobot reads as
   "did not say who is connected": locally, as on AWS without DCV, no session is ever stopped on a guess.
4. S3: moto honours `If-None-Match: *` and `If-Match` on PutObject (and on CompleteMultipartUpload, DeleteObject)
   but checks, then writes, with no lock: two writers at once may both pass the check (seen here: 5 trials in 15
   with 4 MB bodies). S3 applies each write atomically; a lock around moto's object writes does the same here.
5. SSM keeps its tags in a `defaultdict(lambda: defaultdict(dict))`, which no snapshot can pickle
   (`local.embedded.persistence`): from the first Run Command on, the stack's state was never saved again. The same
   dictionary with a module-level factory pickles.
6. `studiobot doctor` asks what moto lacks: Lambda's GetAccountSettings (answered from moto's own knob for the
   account's limit, `MOTO_LAMBDA_CONCURRENCY_QUOTA`, default 1,000 as on AWS, less the functions' reserved
   concurrency) and EC2's quotas in Service Quotas (moto knows only VPC's): a value set with `set_service_quota`,
   what an approved increase leaves; none set, Service Quotas says NoSuchResource, as moto does today.
7. SQS fair queues: moto hands a standard queue's messages out first in, first out; `local.embedded.fair_queues`
   serves a quiet message group before a noisy one's backlog, as AWS does (what each does: that module's docstring).
   `STUDIOBOT_LOCAL_FAIR_QUEUES=off` leaves moto's order, today's behaviour without them (`bench/sharing.py`).
8. SQS: moto's receive checks each message's retention period by building every attribute of the queue (counting
   all its messages): ≈ 150 ms a receive with 2,000 tasks queued. The retention period alone answers it.
"""

from __future__ import annotations

import copy
import functools
import threading
import types
from collections import defaultdict
from typing import Any

from local.embedded import fair_queues

_sending = threading.local()
_applied = False


def apply() -> None:
    """Install the patch once per process (harmless to call again)."""
    global _applied
    if _applied:
        return
    from moto.dynamodb.responses import DynamoHandler
    from moto.sqs import models

    dynamodb_lock = threading.RLock()
    original_call_action = DynamoHandler.call_action

    @functools.wraps(original_call_action)
    def call_action(self: Any) -> Any:
        with dynamodb_lock:
            return original_call_action(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    _cheap_transaction_rollback()

    full_attributes = models.Queue.attributes.fget  # type: ignore[attr-defined]
    original_send = models.SQSBackend.send_message

    def attributes(queue: Any) -> dict[str, Any]:
        if getattr(_sending, "active", False):
            if not queue.fifo_queue:
                return {}
            value = getattr(queue, "content_based_deduplication", False)
            return {
                "ContentBasedDeduplication": value.lower()
                if isinstance(value, str)
                else str(bool(value)).lower()
            }
        return full_attributes(queue)  # type: ignore[no-any-return]

    @functools.wraps(original_send)
    def send_message(self: Any, *args: Any, **kwargs: Any) -> Any:
        _sending.active = True
        try:
            return original_send(self, *args, **kwargs)
        finally:
            _sending.active = False

    models.Queue.attributes = property(attributes)  # type: ignore[assignment,method-assign]
    models.SQSBackend.send_message = send_message  # type: ignore[method-assign]
    _cheap_retention_check()
    _ssm_instance_information()
    _atomic_s3_writes()
    _ssm_picklable_tags()
    _lambda_account_settings()
    _ec2_service_quotas()
    if fair_queues.wanted():
        fair_queues.apply()
    _applied = True


def _cheap_retention_check() -> None:
    """moto's receive asks, for each message it hands out, whether it is past the queue's retention period, by
    building every attribute of the queue: O(messages) a message. The retention period alone answers it."""
    from moto.core.utils import unix_time
    from moto.sqs import models

    def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
        retention_s = int(self.get_queue(queue_name).message_retention_period)
        return bool(retention_s + message.sent_timestamp / 1000 > unix_time())

    models.SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period  # type: ignore[method-assign]


def _atomic_s3_writes() -> None:
    """One object write at a time, so a conditional write's check and its write are one step, as on S3."""
    from moto.s3.responses import S3Response

    s3_lock = threading.RLock()

    def locked(method: Any) -> Any:
        @functools.wraps(method)
        def under_lock(self: Any, *args: Any, **kwargs: Any) -> Any:
            with s3_lock:
                return method(self, *args, **kwargs)

        return under_lock

    for name in ("put_object", "copy_object", "delete_object", "_key_response_post"):
        setattr(S3Response, name, locked(getattr(S3Response, name)))


def tags_by_resource() -> defaultdict[str, dict[str, str]]:
    """SSM's tags of one resource type, by resource id (a factory a snapshot can pickle, unlike a lambda)."""
    return defaultdict(dict)


def _ssm_picklable_tags() -> None:
    from moto.ssm.models import SimpleSystemManagerBackend

    original_init = SimpleSystemManagerBackend.__init__

    @functools.wraps(original_init)
    def init(self: Any, region_name: str, account_id: str) -> None:
        original_init(self, region_name, account_id)
        tags: defaultdict[str, defaultdict[str, dict[str, str]]] = defaultdict(tags_by_resource)
        tags.update(self._resource_tags)
        self._resource_tags = tags

    SimpleSystemManagerBackend.__init__ = init  # type: ignore[method-assign]


def _ssm_instance_information() -> None:
    """Systems Manager's DescribeInstanceInformation, which moto lacks: a running EC2 instance with an instance
    profile counts as managed and online (what the workstation role's SSM core policy makes true on AWS)."""
    from moto.core.responses import ActionResult
    from moto.ec2.models import ec2_backends
    from moto.ssm.responses import SimpleSystemManagerResponse

    def describe_instance_information(self: Any) -> Any:
        wanted: set[str] = set()
        for entry in self._get_param("Filters") or []:
            if entry.get("Key") == "InstanceIds":
                wanted.update(entry.get("Values", []))
        backend = ec2_backends[self.current_account][self.region]
        found = []
        for reservation in backend.all_reservations():
            for instance in reservation.instances:
                if wanted and instance.id not in wanted:
                    continue
                profiled = getattr(instance, "iam_instance_profile", None) or (
                    instance.id in backend.iam_instance_profile_associations
                )
                if instance.state != "running" or not profiled:
                    continue
                windows = (getattr(instance, "platform", "") or "").lower() == "windows"
                found.append(
                    {
                        "InstanceId": instance.id,
                        "PingStatus": "Online",
                        "PlatformType": "Windows" if windows else "Linux",
                        "ResourceType": "EC2Instance",
                    }
                )
        return ActionResult({"InstanceInformationList": found})

    def list_command_invocations(self: Any) -> Any:
        command = self.ssm_backend.get_command_by_id(self._get_param("CommandId"))
        found = [
            {
                "CommandId": invocation["CommandId"],
                "InstanceId": invocation["InstanceId"],
                "Status": invocation["Status"],
                "CommandPlugins": [
                    {
                        "Name": invocation["PluginName"],
                        "Status": invocation["Status"],
                        "Output": invocation["StandardOutputContent"],
                    }
                ],
            }
            for invocation in command.invocations
        ]
        return ActionResult({"CommandInvocations": found})

    SimpleSystemManagerResponse.describe_instance_information = describe_instance_information  # type: ignore[attr-defined]
    SimpleSystemManagerResponse.list_command_invocations = list_command_invocations  # type: ignore[attr-defined]


def _cheap_transaction_rollback() -> None:
    from moto.dynamodb import models as dynamodb

    def no_table_copies(value: Any, memo: Any = None) -> Any:
        # moto's transaction "backs up" each table with deepcopy; the wrapper below keeps the items instead.
        if isinstance(value, dynamodb.Table):
            return value
        return copy.deepcopy(value, memo)

    dynamodb.copy = types.SimpleNamespace(deepcopy=no_table_copies, copy=copy.copy)  # type: ignore[assignment]
    original = dynamodb.DynamoDBBackend.transact_write_items

    @functools.wraps(original)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        before = []  # (table, key, item as it was, or None where there was none)
        for entry in transact_items:
            operation = next(iter(entry.values()))
            table = self.tables.get(operation.get("TableName"))
            if table is None:
                continue  # moto answers ResourceNotFound itself
            if "Key" in operation:
                key = operation["Key"]
            else:
                names = [name for name in (table.hash_key_attr, table.range_key_attr) if name]
                key = {name: operation["Item"][name] for name in names if name in operation["Item"]}
            current = self.get_item(table.name, key)
            before.append(
                (table.name, key, copy.deepcopy(current.to_json()["Attributes"]) if current else None)
            )
        try:
            original(self, transact_items)
        except Exception:
            for table_name, key, attributes in before:
                if attributes is None:
                    self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, attributes)
            raise

    dynamodb.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def set_service_quota(
    service_code: str,
    quota_code: str,
    value: float,
    account_id: str = "123456789012",
    region: str = "us-east-1",
) -> None:
    """The value Service Quotas answers for a quota moto does not know (what an approved increase leaves); kept in
    moto's backend, so a reset forgets it."""
    from moto.servicequotas.models import servicequotas_backends

    backend = servicequotas_backends[account_id][region]
    applied = backend.__dict__.setdefault("applied_quotas", {})
    applied[(service_code, quota_code)] = float(value)


def _ec2_service_quotas() -> None:
    from moto.servicequotas.models import ServiceQuotasBackend

    original = ServiceQuotasBackend.get_service_quota

    @functools.wraps(original)
    def get_service_quota(self: Any, service_code: str, quota_code: str) -> dict[str, Any]:
        applied: dict[tuple[str, str], float] = getattr(self, "applied_quotas", {})
        if (service_code, quota_code) in applied:
            return {
                "ServiceCode": service_code,
                "QuotaCode": quota_code,
                "QuotaArn": f"arn:aws:servicequotas:{self.region_name}:{self.account_id}:{service_code}/{quota_code}",
                "Value": applied[(service_code, quota_code)],
                "Unit": "None",
                "Adjustable": True,
                "GlobalQuota": False,
            }
        return original(self, service_code, quota_code)

    ServiceQuotasBackend.get_service_quota = get_service_quota  # type: ignore[method-assign]


def _lambda_account_settings() -> None:
    """Lambda's GetAccountSettings: moto routes no `account-settings` path and has no such method."""
    import json
    import os

    from moto.awslambda import urls
    from moto.awslambda.responses import LambdaResponse

    def get_account_settings(self: Any) -> Any:
        limit = int(os.environ.get("MOTO_LAMBDA_CONCURRENCY_QUOTA", "1000"))
        functions = self.backend.list_functions()
        reserved = sum(int(function.reserved_concurrency or 0) for function in functions)
        settings = {
            "AccountLimit": {
                "TotalCodeSize": 80_530_636_800,
                "CodeSizeUnzipped": 262_144_000,
                "CodeSizeZipped": 52_428_800,
                "ConcurrentExecutions": limit,
                "UnreservedConcurrentExecutions": limit - reserved,
            },
            "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": len(functions)},
        }
        return 200, {}, json.dumps(settings)

    LambdaResponse.get_account_settings = get_account_settings  # type: ignore[attr-defined]
    urls.url_paths.setdefault(r"{0}/(?P<api_version>[^/]+)/account-settings/?$", LambdaResponse.dispatch)
