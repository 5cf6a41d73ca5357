"""State benchmark: every AWS service the local stack uses is called as the stack calls it, snapshotted, and brought
back into a fresh stack (`local.embedded.persistence`, `local.embedded.carry`); counted are the services whose state came back.

S3, SQS, DynamoDB, EC2, SSM (a parameter, and Run Command asked as the presence check asks: DescribeInstanceInformation,
SendCommand, ListCommandInvocations), Step Functions, Batch and Scheduler each keep what was made in them. SNS is
made afresh from the template at every `up`: what must come back of it is its subscription and the event it
delivered before the snapshot, waiting in the notifications queue.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from local.embedded.carry import carry_over, made_by_template
from local.embedded.persistence import StateFolder
from local.embedded.stack import REGION, RESOURCES_TEMPLATE, StackInfo, deploy, start_moto_server

SERVICES = ("s3", "sqs", "sns", "dynamodb", "ec2", "ssm", "stepfunctions", "batch", "scheduler")
ROLE_TRUST = {"Version": "2012-10-17", "Statement": []}
PASS_MACHINE = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
MOTO_IMAGE = "ami-12c6146b"  # one of moto's own images


@dataclass(frozen=True)
class Marks:
    """What was made in each service, to look for after the restore."""

    instance_id: str
    command_id: str
    execution_arn: str
    batch_job_id: str


def clients(endpoint: str) -> Callable[[str], Any]:
    """boto3 clients for the stack at `endpoint`, by service name."""
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    return lambda name: session.client(name, endpoint_url=endpoint)


def exercise(aws: Callable[[str], Any], info: StackInfo) -> Marks:
    """Call every service the stack uses, as the stack and its workers call them."""
    aws("s3").put_object(Bucket=info.scenes_bucket, Key="scenes/state.blend", Body=b"scene")
    aws("sqs").send_message(QueueUrl=info.render_queue_url, MessageBody="state-task")
    aws("sns").publish(TopicArn=info.events_topic_arn, Message="state-event")
    aws("dynamodb").put_item(TableName=info.table_name, Item={"pk": {"S": "STATE"}, "sk": {"S": "JOB"}})
    iam = aws("iam")
    role = iam.create_role(RoleName="state-role", AssumeRolePolicyDocument=json.dumps(ROLE_TRUST))["Role"]
    iam.create_instance_profile(InstanceProfileName="state-profile")
    iam.add_role_to_instance_profile(InstanceProfileName="state-profile", RoleName="state-role")
    instance_id = aws("ec2").run_instances(
        ImageId=MOTO_IMAGE,
        MinCount=1,
        MaxCount=1,
        IamInstanceProfile={"Name": "state-profile"},
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": "studiobot:workstation", "Value": "state-01"}]}
        ],
    )["Instances"][0]["InstanceId"]
    ssm = aws("ssm")
    ssm.put_parameter(Name="/studiobot/state", Value="kept", Type="String")
    for _ in ssm.get_paginator("describe_instance_information").paginate(
        Filters=[{"Key": "InstanceIds", "Values": [instance_id]}]
    ):
        pass
    command_id = ssm.send_command(
        InstanceIds=[instance_id],
        DocumentName="AWS-RunShellScript",
        Parameters={"commands": ["echo presence"]},
    )["Command"]["CommandId"]
    for _ in ssm.get_paginator("list_command_invocations").paginate(CommandId=command_id, Details=True):
        pass
    stepfunctions = aws("stepfunctions")
    machine = stepfunctions.create_state_machine(
        name="state-keepalive", definition=json.dumps(PASS_MACHINE), roleArn=role["Arn"]
    )["stateMachineArn"]
    execution_arn = stepfunctions.start_execution(stateMachineArn=machine)["executionArn"]
    aws("scheduler").create_schedule(
        Name="state-sweep",
        ScheduleExpression="rate(5 minutes)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": machine, "RoleArn": role["Arn"]},
    )
    batch = aws("batch")
    environment = batch.create_compute_environment(
        computeEnvironmentName="state-gpu", type="UNMANAGED", serviceRole=role["Arn"]
    )["computeEnvironmentArn"]
    batch.create_job_queue(
        jobQueueName="state-gpu",
        state="ENABLED",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": environment}],
    )
    batch.register_job_definition(
        jobDefinitionName="state-node",
        type="container",
        containerProperties={"image": "studiobot-render", "vcpus": 1, "memory": 512, "command": ["node"]},
    )
    batch_job_id = batch.submit_job(jobName="state-node", jobQueue="state-gpu", jobDefinition="state-node")[
        "jobId"
    ]
    return Marks(instance_id, command_id, execution_arn, batch_job_id)


def came_back(aws: Callable[[str], Any], info: StackInfo, marks: Marks) -> dict[str, bool]:
    """For each service, whether what `exercise` made in it is there (after a restore)."""
    checks: dict[str, Callable[[], bool]] = {
        "s3": lambda: (
            aws("s3").get_object(Bucket=info.scenes_bucket, Key="scenes/state.blend")["Body"].read()
            == b"scene"
        ),
        "sqs": lambda: "state-task" in _bodies(aws("sqs"), info.render_queue_url),
        "sns": lambda: (
            "state-event" in _bodies(aws("sqs"), info.notifications_queue_url)
            and bool(aws("sns").list_subscriptions_by_topic(TopicArn=info.events_topic_arn)["Subscriptions"])
        ),
        "dynamodb": lambda: (
            "Item"
            in aws("dynamodb").get_item(
                TableName=info.table_name, Key={"pk": {"S": "STATE"}, "sk": {"S": "JOB"}}
            )
        ),
        "ec2": lambda: (
            [
                instance["InstanceId"]
                for reservation in aws("ec2").describe_instances(
                    Filters=[{"Name": "tag:studiobot:workstation", "Values": ["state-01"]}]
                )["Reservations"]
                for instance in reservation["Instances"]
            ]
            == [marks.instance_id]
        ),
        "ssm": lambda: _ssm_kept(aws("ssm"), marks),
        "stepfunctions": lambda: (
            aws("stepfunctions").describe_execution(executionArn=marks.execution_arn)["executionArn"]
            == marks.execution_arn
        ),
        "batch": lambda: (
            [job["jobId"] for job in aws("batch").describe_jobs(jobs=[marks.batch_job_id])["jobs"]]
            == [marks.batch_job_id]
        ),
        "scheduler": lambda: aws("scheduler").get_schedule(Name="state-sweep")["Name"] == "state-sweep",
    }
    found = {}
    for service, check in checks.items():
        try:
            found[service] = bool(check())
        except Exception:  # a service whose state is gone answers "not found" in its own way
            found[service] = False
    return found


def _ssm_kept(ssm: Any, marks: Marks) -> bool:
    value = ssm.get_parameter(Name="/studiobot/state")["Parameter"]["Value"]
    commands = [command["CommandId"] for command in ssm.list_commands()["Commands"]]
    invocations = ssm.list_command_invocations(CommandId=marks.command_id)["CommandInvocations"]
    return value == "kept" and marks.command_id in commands and len(invocations) == 1


def _bodies(sqs: Any, queue_url: str) -> list[str]:
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [message["Body"] for message in messages.get("Messages", [])]


def round_trip(folder: Path) -> dict[str, bool]:
    """Exercise every service on a fresh stack, snapshot it into `folder`, stop it, bring the snapshot back into
    another fresh stack (as `down` then `up` do); what came back, per service. A failed snapshot raises."""
    server = start_moto_server()
    try:
        info = deploy(server.endpoint)
        marks = exercise(clients(server.endpoint), info)
        StateFolder(folder).save(server.gate, always=True)
    finally:
        server.stop()
    server = start_moto_server()
    try:
        saved = StateFolder(folder).load()
        assert saved is not None
        info = deploy(server.endpoint)
        with server.gate.held():
            carry_over(saved.backends, made_by_template(RESOURCES_TEMPLATE.read_text()))
        return came_back(clients(server.endpoint), info, marks)
    finally:
        server.stop()


def measure() -> dict[str, Any]:
    """faults.json's state keys: the services exercised, and those whose state a snapshot brought back."""
    with tempfile.TemporaryDirectory(prefix="studiobot-state-") as directory:
        try:
            found = round_trip(Path(directory) / "state")
        except Exception:  # the snapshot failed: nothing came back
            found = dict.fromkeys(SERVICES, False)
    return {
        "snapshot_services": len(SERVICES),
        "snapshot_services_restored": sum(found.values()),
    }


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
