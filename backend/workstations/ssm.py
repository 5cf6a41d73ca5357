"""Asking workstations through AWS Systems Manager Run Command: which instances' agents answer, one SendCommand per
50 of them (the stack's own presence document, `backend.workstations.document`), and a command's answers read back
at once (`ListCommandInvocations`)."""

from __future__ import annotations

from typing import Any, ClassVar

from botocore.exceptions import ClientError

from backend.aws.base import AwsAdapter
from backend.workstations.asking import Invocation
from backend.workstations.document import document_name

COMMAND_TIMEOUT_S = 30  # for the command to reach the instances (the document bounds the script itself)


class SsmCommands(AwsAdapter):
    """Run Command for the presence check; satisfies `backend.workstations.asking.CommandRunner`."""

    service = "ssm"
    label = "Systems Manager"
    reasons: ClassVar[dict[str, str]] = {
        "InvalidInstanceId": "an instance is not managed by Systems Manager or its agent is offline",
    }

    def __init__(self, client: Any | None = None, document: str = document_name("local")) -> None:
        super().__init__(client)
        self.document = document  # the stack's presence document (`document_name(stage)`), all it may send
        self.calls: dict[str, int] = {}  # calls made by operation, for tests and benchmarks
        self.sent: list[list[str]] = []  # the instance ids of each SendCommand

    def managed(self, instance_ids: list[str]) -> dict[str, str]:
        """The instances whose SSM agent is online, with their platform (`Linux`, `Windows`)."""
        found: dict[str, str] = {}
        try:
            for start in range(0, len(instance_ids), 50):
                batch = instance_ids[start : start + 50]
                paginator = self.client.get_paginator("describe_instance_information")
                for page in paginator.paginate(Filters=[{"Key": "InstanceIds", "Values": batch}]):
                    self._count("DescribeInstanceInformation")
                    for info in page.get("InstanceInformationList", []):
                        if info.get("PingStatus") == "Online":
                            found[info["InstanceId"]] = (
                                "Windows" if info.get("PlatformType") == "Windows" else "Linux"
                            )
        except ClientError as error:
            raise self.aws_error(error, "ask which workstations Systems Manager reaches") from error
        return found

    def send(self, instance_ids: list[str], platform: str) -> str:
        """Run the presence document on up to 50 instances of one platform; the command's id. The document picks
        each platform's script itself: nothing but its name is sent."""
        try:
            self._count("SendCommand")
            self.sent.append(list(instance_ids))
            response = self.client.send_command(
                InstanceIds=instance_ids,
                DocumentName=self.document,
                TimeoutSeconds=COMMAND_TIMEOUT_S,
                Comment="studiobot: is anyone connected?",
            )
        except ClientError as error:
            raise self.aws_error(error, "ask the workstations who is connected") from error
        return str(response["Command"]["CommandId"])

    def results(self, command_id: str) -> dict[str, Invocation]:
        """The instances that have finished a command, with how it ended and what the script printed: one paginated
        ListCommandInvocations per command (not a call per instance: SSM throttles those at scale)."""
        finished: dict[str, Invocation] = {}
        try:
            paginator = self.client.get_paginator("list_command_invocations")
            for page in paginator.paginate(CommandId=command_id, Details=True):
                self._count("ListCommandInvocations")
                for invocation in page.get("CommandInvocations", []):
                    status = str(invocation.get("Status", ""))
                    if status in ("Pending", "InProgress", "Delayed", "Cancelling"):
                        continue
                    # one plugin per step of the document; the other platform's step is skipped and says so
                    output = "\n".join(
                        str(plugin.get("Output", "")) for plugin in invocation.get("CommandPlugins") or []
                    )
                    finished[invocation["InstanceId"]] = Invocation(status, output)
        except ClientError as error:
            raise self.aws_error(error, "read the workstations' answers") from error
        return finished

    def _count(self, operation: str) -> None:
        self.calls[operation] = self.calls.get(operation, 0) + 1
