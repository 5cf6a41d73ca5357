"""What Run Command hands back for the presence document: one plugin per step, the other platform's step skipped."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from backend.workstations.presence import read_answer
from backend.workstations.ssm import SsmCommands

ANSWER = {"studiobot_presence": 1, "dcv": True, "connections": [], "idle_s": 12}
SKIPPED = "Step execution skipped due to unsatisfied preconditions: '\"StringEquals\": [platformType, Linux]'"


class _Pages:
    def __init__(self, pages: list[dict[str, Any]]) -> None:
        self.pages = pages

    def paginate(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        yield from self.pages


class _Ssm:
    """ListCommandInvocations as SSM answers it for a Windows workstation and a Linux one."""

    def get_paginator(self, operation: str) -> _Pages:
        assert operation == "list_command_invocations"
        windows = [
            {"Name": "presenceLinux", "Status": "Success", "Output": SKIPPED},
            {"Name": "presenceWindows", "Status": "Success", "Output": "note\r\n" + json.dumps(ANSWER)},
        ]
        linux = [
            {"Name": "presenceLinux", "Status": "Success", "Output": json.dumps(ANSWER) + "\n"},
            {"Name": "presenceWindows", "Status": "Success", "Output": SKIPPED.replace("Linux", "Windows")},
        ]
        return _Pages(
            [
                {
                    "CommandInvocations": [
                        {"InstanceId": "i-win", "Status": "Success", "CommandPlugins": windows},
                        {"InstanceId": "i-lin", "Status": "Success", "CommandPlugins": linux},
                        {"InstanceId": "i-busy", "Status": "InProgress", "CommandPlugins": []},
                    ]
                }
            ]
        )


def test_each_platform_s_answer_is_read_whichever_step_ran() -> None:
    finished = SsmCommands(client=_Ssm()).results("command-1")
    assert set(finished) == {"i-win", "i-lin"}  # still running: not finished
    for invocation in finished.values():
        answer = read_answer(invocation.output)
        assert invocation.status == "Success" and answer is not None and answer.idle_s == 12
