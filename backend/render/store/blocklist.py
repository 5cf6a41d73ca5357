"""A job's blocklist of render nodes (Flamenco's): each node's failed tasks of the job are counted on the job's item,
and a node that failed `BLOCK_AFTER` of them joins the job's `blocklist` (a string set of node ids). A blocklist is
not a status change: the job renders on, on the other nodes."""

from __future__ import annotations

from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from backend.aws.base import error_code
from backend.render.records import BLOCK_AFTER
from backend.render.store.items import job_key
from backend.render.store.table import JobTable


@dataclass(frozen=True)
class NodeFailures:
    """A node's failed tasks of a job so far; `newly_blocked` for the one call that put it on the blocklist."""

    count: int
    newly_blocked: bool = False
    blocked: list[str] = field(default_factory=list)  # the job's blocklist after that call

    @property
    def blocking(self) -> bool:
        return self.count >= BLOCK_AFTER


class DynamoBlocklist(JobTable):
    """The per-(job, node) failure counters and the job's blocklist, on the job's item (atomic updates only)."""

    def node_failed(self, job_id: str, node: str, error: str) -> NodeFailures:
        """Count one failed task of the job on `node`; at the `BLOCK_AFTER`th the node joins the job's blocklist."""
        names = {"#fails": f"node_fails_{node}", "#error": f"node_error_{node}"}
        try:
            response = self.client.update_item(
                TableName=self.table_name,
                Key=job_key(job_id),
                UpdateExpression="ADD #fails :one SET #error = :error",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={":one": {"N": "1"}, ":error": {"S": error[:500]}},
                ReturnValues="UPDATED_NEW",
            )
        except ClientError as error_:
            raise self.aws_error(error_, "count the node's failed tasks") from error_
        count = int(response["Attributes"][names["#fails"]]["N"])
        if count < BLOCK_AFTER:
            return NodeFailures(count)
        try:  # the condition makes it a claim: one call adds the node, and that one tells the thread
            response = self.client.update_item(
                TableName=self.table_name,
                Key=job_key(job_id),
                UpdateExpression="ADD blocklist :nodes",
                ConditionExpression="attribute_exists(pk) AND NOT contains(blocklist, :node)",
                ExpressionAttributeValues={":nodes": {"SS": [node]}, ":node": {"S": node}},
                ReturnValues="UPDATED_NEW",
            )
        except ClientError as error_:
            if error_code(error_) == "ConditionalCheckFailedException":
                return NodeFailures(count)
            raise self.aws_error(error_, "put the node on the job's blocklist") from error_
        return NodeFailures(count, True, sorted(response["Attributes"]["blocklist"]["SS"]))

    def blocklist(self, job_id: str) -> list[str]:
        """The nodes that take no more of the job's tasks."""
        try:
            response = self.client.get_item(
                TableName=self.table_name,
                Key=job_key(job_id),
                ProjectionExpression="blocklist",
                ConsistentRead=True,
            )
        except ClientError as error:
            raise self.aws_error(error, "read the job's blocklist") from error
        return sorted(response.get("Item", {}).get("blocklist", {}).get("SS", []))
