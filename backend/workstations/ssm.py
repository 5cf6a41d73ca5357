"""Asking workstations through AWS Systems Manager Run Command: which instances' agents answer, one SendCommand per
50 of them, and a command's answers read back at once (`ListCommandInvocations`)."""

from __future__ import annotations

from importlib import resources
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from backend.aws.base import AwsAdapter
from backend.workstations.asking import Invocation

DOCUMENTS = {"Linux": "AWS-RunShellScript", "Windows": "AWS-RunPowerShellScript"}
SCRIPTS = {"Linux": "presence.sh", "Windows": "presence.ps1"}
COMMAND_TIMEOUT_S = 30  # SSM's own limit for the script on the instance


def script(platform: str) -> str:
    """The presence script a platform runs (shipped with the package, also installed by the optional agent)."""
    return (resources.files("backend.workstations") / "scripts" / SCRIPTS[platform]).read_text()


class SsmCommands(AwsAdapter):
    """Run Command for the presence check; satisfies `backend.workstations.asking.CommandRunner`."""

    service = "ssm"
    label = "Systems Manager"
    reasons: ClassVar[dict[str, str]] = {
        "InvalidInstanceId": "an instance is not managed by Systems Manager or its agent is offline",
    }

    def __init__(self, client: Any | None = None) -> None:
        super().__init__(client)
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
        """Run the presence script on up to 50 instances of one platform; the command's id."""
        try:
            self._count("SendCommand")
            self.sent.append(list(instance_ids))
            response = self.client.send_command(
                InstanceIds=instance_ids,
                DocumentName=DOCUMENTS[platform],
                Parameters={"commands": [script(platform)], "executionTimeout": [str(COMMAND_TIMEOUT_S)]},
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
                    plugins = invocation.get("CommandPlugins") or [{}]
                    finished[invocation["InstanceId"]] = Invocation(status, str(plugins[0].get("Output", "")))
        except ClientError as error:
            raise self.aws_error(error, "read the workstations' answers") from error
        return finished

    def _count(self, operation: str) -> None:
        self.calls[operation] = self.calls.get(operation, 0) + 1
