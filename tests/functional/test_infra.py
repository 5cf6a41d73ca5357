"""One source of truth: the local stack deploys exactly what `infra/serverless.yml` deploys on AWS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import yaml

from local.embedded.stack import RESOURCES_TEMPLATE

from .conftest import Stack

INFRA = Path(__file__).resolve().parents[2] / "infra"


class _CloudFormationLoader(yaml.SafeLoader):
    """Reads `!Ref`, `!GetAtt`, `!Sub`… as plain values tagged with their function."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node)
    else:
        value = loader.construct_mapping(node)  # type: ignore[arg-type]
    return {f"Fn::{suffix}" if suffix != "Ref" else "Ref": value}


_CloudFormationLoader.add_multi_constructor("!", _tag)


def _load(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_CloudFormationLoader)


def test_serverless_yml_takes_its_resources_from_the_shared_template() -> None:
    service = _load(INFRA / "serverless.yml")
    assert service["resources"] == [
        "${file(resources.yml)}",
        "${file(aws-resources.yml)}",
        "${file(iam.yml)}",
        "${file(batch.yml)}",
        "${file(secrets.yml)}",
        "${file(blenders.js):resources}",  # each Blender other than 5.0: its function, lanes, permissions
        {
            "extensions": {
                lane: {"Properties": {"VisibilityTimeout": "${file(render-queue.js):visibilityTimeout}"}}
                for lane in ("RenderQueue", "RenderUrgentQueue", "RenderLowQueue")
            }
        },
    ]
    assert RESOURCES_TEMPLATE == INFRA / "resources.yml"


def test_the_render_function_reports_partial_batch_failures_and_the_queue_outlives_it() -> None:
    service = _load(INFRA / "serverless.yml")
    resources = _load(INFRA / "resources.yml")["Resources"]
    render = service["functions"]["render"]
    # one event source per priority lane, each as the normal lane's (`backend.render.lanes` switches them)
    lanes = ("RenderUrgentQueue", "RenderQueue", "RenderLowQueue")
    assert [event["sqs"]["arn"] for event in render["events"]] == [{"Fn::GetAtt": f"{q}.Arn"} for q in lanes]
    for event in render["events"]:
        assert event["sqs"]["functionResponseType"] == "ReportBatchItemFailures"
        assert event["sqs"]["batchSize"] == 1
    timeout = service["params"]["default"]["renderTimeoutS"]
    for lane in lanes:
        assert resources[lane]["Properties"]["VisibilityTimeout"] >= 6 * timeout
        assert (
            resources[lane]["Properties"]["RedrivePolicy"]
            == resources["RenderQueue"]["Properties"]["RedrivePolicy"]
        )
    assert service["functions"]["renderDeadLetters"]["events"][0]["sqs"]["arn"] == {
        "Fn::GetAtt": "RenderDeadLetterQueue.Arn"
    }


def test_the_local_stack_has_every_resource_of_the_template_as_defined(stack: Stack) -> None:
    resources = _load(RESOURCES_TEMPLATE)["Resources"]
    summaries = boto3.client("cloudformation").list_stack_resources(StackName=stack.info.stack_name)
    deployed = {
        item["LogicalResourceId"]: item["ResourceType"] for item in summaries["StackResourceSummaries"]
    }
    assert deployed == {name: resource["Type"] for name, resource in resources.items()}

    attributes = stack.sqs.get_queue_attributes(
        QueueUrl=stack.settings.render_queue_url, AttributeNames=["All"]
    )
    redrive = json.loads(attributes["Attributes"]["RedrivePolicy"])
    expected = resources["RenderQueue"]["Properties"]
    assert redrive["maxReceiveCount"] == expected["RedrivePolicy"]["maxReceiveCount"] == 3
    assert redrive["deadLetterTargetArn"].endswith(":studiobot-local-render-dlq")
    assert int(attributes["Attributes"]["VisibilityTimeout"]) == expected["VisibilityTimeout"]

    table = boto3.client("dynamodb").describe_table(TableName=stack.settings.table_name)["Table"]
    assert table["KeySchema"] == resources["JobsTable"]["Properties"]["KeySchema"]
    for bucket in (stack.settings.scenes_bucket, stack.settings.outputs_bucket):
        stack.s3.head_bucket(Bucket=bucket)


def test_the_keepalive_state_machine_is_the_asl_file_started_by_a_schedule_from_config() -> None:
    service = _load(INFRA / "serverless.yml")
    aws_only = _load(INFRA / "aws-resources.yml")["Resources"]
    machine = aws_only["KeepAliveStateMachine"]["Properties"]
    assert machine["Definition"] == "${file(keepalive.asl.json)}"
    substitutions = machine["DefinitionSubstitutions"]
    for task, function in (
        ("StartDue", "keepAliveStartDue"),
        ("StopStarted", "keepAliveStopStarted"),
        ("Report", "keepAliveReport"),
    ):
        assert function in service["functions"]
        assert substitutions[f"{task}FunctionArn"] == {
            "Fn::GetAtt": f"{function[0].upper()}{function[1:]}LambdaFunction.Arn"
        }
    schedule = aws_only["KeepAliveSchedule"]["Properties"]
    assert schedule["ScheduleExpression"] == "${param:keepAliveCron}"
    assert service["params"]["default"]["keepAliveCron"] == "cron(0 4 * * ? *)"
    assert schedule["ScheduleExpressionTimezone"] == "${param:keepAliveTimezone}"
    assert schedule["Target"]["Arn"] == {"Ref": "KeepAliveStateMachine"}
    sweep_events = service["functions"]["sweep"]["events"]
    assert sweep_events == [{"schedule": "rate(5 minutes)"}]
    patterns = service["functions"]["ec2Events"]["events"][0]["eventBridge"]["pattern"]
    assert patterns["detail-type"] == [
        "EC2 Spot Instance Interruption Warning",
        "EC2 Instance State-change Notification",
    ]
