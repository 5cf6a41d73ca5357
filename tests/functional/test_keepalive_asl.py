"""The keep-alive state machine's ASL, executed by moto's Step Functions (its Lambda tasks echo their input)."""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path

import boto3
from moto import mock_aws

ASL = Path(__file__).resolve().parents[2] / "infra" / "keepalive.asl.json"
TASKS = ("StartDue", "StopStarted", "Report")


def _definition(arns: dict[str, str]) -> str:
    text = ASL.read_text()
    for name, arn in arns.items():
        text = text.replace("${" + name + "FunctionArn}", arn)
    return text


def test_start_wait_stop_report_in_order_and_the_wait_really_waits() -> None:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}):
        role = boto3.client("iam").create_role(RoleName="keepalive", AssumeRolePolicyDocument="{}")["Role"][
            "Arn"
        ]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as bundle:
            bundle.writestr("task.py", "def handler(event, context):\n    return event\n")
        lambdas = boto3.client("lambda")
        arns = {
            name: lambdas.create_function(
                FunctionName=f"keepalive-{name}",
                Runtime="python3.13",
                Role=role,
                Handler="task.handler",
                Code={"ZipFile": code.getvalue()},
            )["FunctionArn"]
            for name in TASKS
        }
        sfn = boto3.client("stepfunctions")
        machine = sfn.create_state_machine(name="keepalive", definition=_definition(arns), roleArn=role)
        execution = sfn.start_execution(
            stateMachineArn=machine["stateMachineArn"], input=json.dumps({"wait_seconds": 1})
        )["executionArn"]
        deadline = time.monotonic() + 30
        while (status := sfn.describe_execution(executionArn=execution)["status"]) == "RUNNING":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert status == "SUCCEEDED"
        events = sfn.get_execution_history(executionArn=execution)["events"]
        entered = [
            e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")
        ]
        assert entered == ["StartDue", "Wait", "StopStarted", "Report"]
        waited = {
            e["type"]: e["timestamp"] for e in events if e["type"] in ("WaitStateEntered", "WaitStateExited")
        }
        assert (waited["WaitStateExited"] - waited["WaitStateEntered"]).total_seconds() >= 0.9


def test_every_task_retries_like_the_seed_and_failures_still_report() -> None:
    states = json.loads(ASL.read_text())["States"]
    for name in TASKS:
        (retry,) = states[name]["Retry"]
        assert (retry["IntervalSeconds"], retry["BackoffRate"], retry["MaxAttempts"]) == (2, 2, 6)
    for name in ("StartDue", "StopStarted"):
        (catch,) = states[name]["Catch"]
        assert catch["Next"] == "Report" and catch["ResultPath"] == "$.error"
    assert states["StopStarted"]["ResultPath"] == "$.stop" and states["StartDue"]["ResultPath"] == "$.start"
    assert states["Report"]["End"] is True
