"""What IAM authorises for one AWS API call: the actions, the resource ARNs and the condition keys AWS puts in the
request context, as the Service Authorization Reference lists them for the calls studiobot makes."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlparse

ACCOUNT = "123456789012"  # moto's account: every ARN the tests' resources have
# The partition key of the jobs table and of each of its indexes (infra/resources.yml): `dynamodb:LeadingKeys`.
HASH_KEYS = {"": "pk", "by_channel": "channel", "by_awaiting": "awaiting", "by_outbox": "outbox"}
# Calls every principal may make without any permission.
NEEDS_NO_PERMISSION = {("sts", "GetCallerIdentity")}
# Renamed actions: an operation authorised by another action's name.
RENAMED = {
    ("s3", "HeadObject"): "GetObject",
    ("s3", "ListObjectsV2"): "ListBucket",
    ("s3", "ListObjects"): "ListBucket",
    ("s3", "HeadBucket"): "ListBucket",
    ("s3", "CreateMultipartUpload"): "PutObject",
    ("s3", "UploadPart"): "PutObject",
    ("s3", "CompleteMultipartUpload"): "PutObject",
    ("s3", "ListParts"): "ListMultipartUploadParts",
    ("s3", "ListMultipartUploads"): "ListBucketMultipartUploads",
    ("sqs", "SendMessageBatch"): "SendMessage",
    ("sqs", "DeleteMessageBatch"): "DeleteMessage",
    ("sqs", "ChangeMessageVisibilityBatch"): "ChangeMessageVisibility",
    ("sns", "PublishBatch"): "Publish",
    ("lambda", "Invoke"): "InvokeFunction",
    ("lambda", "InvokeAsync"): "InvokeFunction",
    ("budgets", "DescribeBudget"): "ViewBudget",
    ("budgets", "DescribeBudgets"): "ViewBudget",
    ("budgets", "DescribeBudgetPerformanceHistory"): "ViewBudget",
}
InstanceTags = Callable[[list[str]], dict[str, dict[str, str]]]


@dataclass(frozen=True)
class Request:
    """One authorisation IAM makes: an action on a resource, with the condition keys of the request."""

    action: str
    resource: str
    context: dict[str, list[str]] = field(default_factory=dict)

    def describe(self) -> str:
        keys = ", ".join(f"{key}={values}" for key, values in sorted(self.context.items()))
        return f"{self.action} on {self.resource}" + (f" ({keys})" if keys else "")


@dataclass(frozen=True)
class Call:
    """One AWS API call as the client made it."""

    service: str  # the IAM prefix (botocore's signing name)
    operation: str
    params: dict[str, Any]
    region: str


def requests_for(call: Call, instance_tags: InstanceTags) -> list[Request]:
    """The authorisations one call needs (none for the calls anyone may make)."""
    if (call.service, call.operation) in NEEDS_NO_PERMISSION:
        return []
    action = f"{call.service}:{RENAMED.get((call.service, call.operation), call.operation)}"
    builder = _BUILDERS.get(call.service)
    return builder(call, action, instance_tags) if builder else [Request(action, "*")]


def _plain(value: Any) -> str:
    """A DynamoDB attribute value, low-level (`{"S": "x"}`) or as boto3's resource layer passes it."""
    if isinstance(value, dict) and len(value) == 1:
        return str(next(iter(value.values())))
    return str(value)


def _s3(call: Call, action: str, _: InstanceTags) -> list[Request]:
    params, op = call.params, call.operation
    bucket = f"arn:aws:s3:::{params.get('Bucket', '*')}"
    if op in ("ListObjectsV2", "ListObjects", "ListMultipartUploads", "HeadBucket"):
        context = {"s3:prefix": [params["Prefix"]]} if "Prefix" in params else {}
        return [Request(action, bucket, context)]
    if op == "DeleteObjects":
        keys = [item["Key"] for item in params.get("Delete", {}).get("Objects", [])]
        return [Request("s3:DeleteObject", f"{bucket}/{key}") for key in keys]
    if op in ("CopyObject", "UploadPartCopy"):
        source = params["CopySource"]
        if isinstance(source, dict):
            source = f"{source['Bucket']}/{source['Key']}"
        source = unquote(str(source).split("?versionId=")[0].lstrip("/"))
        return [
            Request("s3:PutObject", f"{bucket}/{params['Key']}"),
            Request("s3:GetObject", f"arn:aws:s3:::{source}"),
        ]
    if "Key" in params:
        return [Request(action, f"{bucket}/{params['Key']}")]
    return [Request(action, bucket)]


def _table(call: Call, name: str, index: str | None = None) -> str:
    arn = name if name.startswith("arn:") else f"arn:aws:dynamodb:{call.region}:{ACCOUNT}:table/{name}"
    return f"{arn}/index/{index}" if index else arn


def _keys(*values: Any) -> dict[str, list[str]]:
    return {"dynamodb:LeadingKeys": sorted({_plain(value) for value in values})}


def _query_leading_key(params: dict[str, Any]) -> list[Any]:
    hash_key = HASH_KEYS.get(params.get("IndexName") or "", "pk")
    if "KeyConditions" in params:
        condition = params["KeyConditions"].get(hash_key, {})
        return list(condition.get("AttributeValueList", []))
    names = {placeholder: name for placeholder, name in params.get("ExpressionAttributeNames", {}).items()}
    values = params.get("ExpressionAttributeValues", {})
    for clause in re.split(r"\s+and\s+", str(params.get("KeyConditionExpression", "")), flags=re.I):
        match = re.fullmatch(r"\s*\(?\s*([#\w.]+)\s*=\s*(:\w+)\s*\)?\s*", clause)
        if match and names.get(match[1], match[1]) == hash_key:
            return [values[match[2]]]
    return []


def _dynamodb(call: Call, action: str, _: InstanceTags) -> list[Request]:
    params, op = call.params, call.operation
    if op in ("GetItem", "DeleteItem", "UpdateItem", "PutItem"):
        key = params.get("Key") or params.get("Item") or {}
        return [Request(action, _table(call, params["TableName"]), _keys(key.get("pk")))]
    if op in ("Query", "Scan"):
        table = _table(call, params["TableName"], params.get("IndexName"))
        if op == "Scan":
            return [Request(action, table)]
        # a partition key this code cannot read is never taken for an absent one (ForAllValues passes those)
        leading = _query_leading_key(params) or ["(partition key not read from the query)"]
        return [Request(action, table, _keys(*leading))]
    if op in ("BatchGetItem", "BatchWriteItem"):
        requests = []
        for table, items in params.get("RequestItems", {}).items():
            if op == "BatchGetItem":
                keys = [key.get("pk") for key in items.get("Keys", [])]
            else:
                keys = [
                    (
                        item.get("PutRequest", {}).get("Item")
                        or item.get("DeleteRequest", {}).get("Key")
                        or {}
                    ).get("pk")
                    for item in items
                ]
            requests.append(Request(action, _table(call, table), _keys(*keys)))
        return requests
    if op in ("TransactWriteItems", "TransactGetItems"):
        kinds = {
            "Put": "PutItem",
            "Update": "UpdateItem",
            "Delete": "DeleteItem",
            "ConditionCheck": "ConditionCheckItem",
        }
        kinds["Get"] = "GetItem"
        requests = []
        for item in params.get("TransactItems", []):
            ((kind, body),) = item.items()
            key = body.get("Key") or body.get("Item") or {}
            requests.append(
                Request(f"dynamodb:{kinds[kind]}", _table(call, body["TableName"]), _keys(key.get("pk")))
            )
        return requests
    name = params.get("TableName")
    return [Request(action, _table(call, name) if name else "*")]


def _queue_arn(call: Call, url: str) -> str:
    parts = urlparse(url).path.strip("/").split("/")
    account, name = (parts[-2], parts[-1]) if len(parts) >= 2 else (ACCOUNT, parts[-1])
    return f"arn:aws:sqs:{call.region}:{account}:{name}"


def _sqs(call: Call, action: str, _: InstanceTags) -> list[Request]:
    params = call.params
    if "QueueUrl" in params:
        return [Request(action, _queue_arn(call, params["QueueUrl"]))]
    if "QueueName" in params:
        return [Request(action, f"arn:aws:sqs:{call.region}:{ACCOUNT}:{params['QueueName']}")]
    return [Request(action, "*")]


def _sns(call: Call, action: str, _: InstanceTags) -> list[Request]:
    topic = call.params.get("TopicArn") or call.params.get("TargetArn") or "*"
    return [Request(action, topic)]


def _instance_requests(
    call: Call, action: str, ids: list[str], tags: InstanceTags, tag_key_prefix: str
) -> list[Request]:
    found = tags(ids) if ids else {}
    requests = []
    for instance in ids:
        context = {f"{tag_key_prefix}/{key}": [value] for key, value in found.get(instance, {}).items()}
        requests.append(Request(action, f"arn:aws:ec2:{call.region}:{ACCOUNT}:instance/{instance}", context))
    return requests


def _ec2(call: Call, action: str, tags: InstanceTags) -> list[Request]:
    params, op = call.params, call.operation
    if op in ("StartInstances", "StopInstances", "RebootInstances", "TerminateInstances"):
        return _instance_requests(call, action, list(params.get("InstanceIds", [])), tags, "aws:ResourceTag")
    if op in ("CreateTags", "DeleteTags"):
        ids = [resource for resource in params.get("Resources", []) if str(resource).startswith("i-")]
        requests = _instance_requests(call, action, ids, tags, "aws:ResourceTag")
        tag_keys = [tag["Key"] for tag in params.get("Tags", [])]
        return [Request(r.action, r.resource, {**r.context, "aws:TagKeys": tag_keys}) for r in requests]
    return [Request(action, "*")]


def _parameter(call: Call, name: str) -> str:
    if name.startswith("arn:"):
        return name
    return f"arn:aws:ssm:{call.region}:{ACCOUNT}:parameter{name if name.startswith('/') else '/' + name}"


def _ssm(call: Call, action: str, tags: InstanceTags) -> list[Request]:
    params, op = call.params, call.operation
    if op in ("GetParameter", "PutParameter", "DeleteParameter", "GetParameterHistory"):
        return [Request(action, _parameter(call, params["Name"]))]
    if op in ("GetParameters", "DeleteParameters"):
        return [Request(action, _parameter(call, name)) for name in params.get("Names", [])]
    if op == "GetParametersByPath":
        return [Request(action, _parameter(call, params["Path"]))]
    if op == "SendCommand":
        document = str(params["DocumentName"])
        if not document.startswith("arn:"):
            owner = "" if document.startswith(("AWS-", "Amazon")) else ACCOUNT
            document = f"arn:aws:ssm:{call.region}:{owner}:document/{document}"
        ids = list(params.get("InstanceIds", []))
        return [Request(action, document), *_instance_requests(call, action, ids, tags, "ssm:resourceTag")]
    return [Request(action, "*")]


def _batch(call: Call, action: str, _: InstanceTags) -> list[Request]:
    params = call.params
    if call.operation != "SubmitJob":
        return [Request(action, "*")]
    prefix = f"arn:aws:batch:{call.region}:{ACCOUNT}"
    queue, definition = str(params["jobQueue"]), str(params["jobDefinition"])
    return [
        Request(action, queue if queue.startswith("arn:") else f"{prefix}:job-queue/{queue}"),
        Request(
            action, definition if definition.startswith("arn:") else f"{prefix}:job-definition/{definition}"
        ),
    ]


def _budgets(call: Call, action: str, _: InstanceTags) -> list[Request]:
    name = call.params.get("BudgetName", "*")
    return [Request(action, f"arn:aws:budgets::{call.params.get('AccountId', ACCOUNT)}:budget/{name}")]


def _lambda(call: Call, action: str, _: InstanceTags) -> list[Request]:
    name = str(call.params.get("FunctionName", "*"))
    arn = name if name.startswith("arn:") else f"arn:aws:lambda:{call.region}:{ACCOUNT}:function:{name}"
    if call.operation == "ListEventSourceMappings":  # no resource-level permission
        return [Request(action, "*")]
    if call.operation in ("UpdateEventSourceMapping", "DeleteEventSourceMapping", "GetEventSourceMapping"):
        mapping = f"arn:aws:lambda:{call.region}:{ACCOUNT}:event-source-mapping:{call.params['UUID']}"
        return [
            Request(action, mapping, {"lambda:FunctionArn": [arn]} if "FunctionName" in call.params else {})
        ]
    qualifier = call.params.get("Qualifier")
    return [Request(action, f"{arn}:{qualifier}" if qualifier else arn)]


_BUILDERS: dict[str, Callable[[Call, str, InstanceTags], list[Request]]] = {
    "s3": _s3,
    "dynamodb": _dynamodb,
    "sqs": _sqs,
    "sns": _sns,
    "ec2": _ec2,
    "ssm": _ssm,
    "batch": _batch,
    "budgets": _budgets,
    "lambda": _lambda,
}
