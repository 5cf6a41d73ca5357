"""`blenderVersions` on AWS, packaged offline: each Blender other than 5.0 gets its own render function from its own
image, urgent, normal and low queues redriven to the render dead-letter queue, and the permissions to use them; the
functions are told the farm's versions and those queues; 5.0 alone packages as before."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.deployer import deploy

STAGE = "ci"
IMAGE_45 = "123456789012.dkr.ecr.us-east-1.amazonaws.com/studiobot-ci-render@sha256:" + "45" * 32
TWO = ("blenderVersions=4.5,5.0", f"renderImageUris=4.5={IMAGE_45}")


@pytest.fixture(scope="module")
def two_blenders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return deploy.package(STAGE, params=TWO, out=tmp_path_factory.mktemp("two") / "package").template


def _statements(template: dict[str, Any], policy: str) -> list[dict[str, Any]]:
    return template["Resources"][policy]["Properties"]["PolicyDocument"]["Statement"]  # type: ignore[no-any-return]


def test_another_blender_gets_its_own_function_image_and_lanes(two_blenders: dict[str, Any]) -> None:
    resources = two_blenders["Resources"]
    function = resources["RenderBlender45LambdaFunction"]["Properties"]
    assert function["PackageType"] == "Image" and function["Code"] == {"ImageUri": IMAGE_45}
    assert function["Role"] == {"Fn::GetAtt": ["RenderRole", "Arn"]}
    assert function["Timeout"] == resources["RenderLambdaFunction"]["Properties"]["Timeout"]
    lanes = ["RenderBlender45UrgentQueue", "RenderBlender45Queue", "RenderBlender45LowQueue"]
    for lane in lanes:
        queue = resources[lane]["Properties"]
        assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {
            "Fn::GetAtt": ["RenderDeadLetterQueue", "Arn"]
        }
        assert queue["VisibilityTimeout"] == 6 * function["Timeout"]  # as Lambda's SQS event source asks
    sources = [
        item["Properties"] for item in resources.values() if item["Type"] == "AWS::Lambda::EventSourceMapping"
    ]
    ours = [
        source
        for source in sources
        if source["FunctionName"] == {"Fn::GetAtt": ["RenderBlender45LambdaFunction", "Arn"]}
    ]
    assert sorted(source["EventSourceArn"]["Fn::GetAtt"][0] for source in ours) == sorted(lanes)
    assert all(source["FunctionResponseTypes"] == ["ReportBatchItemFailures"] for source in ours)
    # every function is told the farm's versions and the 4.5 class's lanes
    environment = resources["BotLambdaFunction"]["Properties"]["Environment"]["Variables"]
    assert environment["STUDIOBOT_BLENDER_VERSIONS"] == "4.5,5.0"
    assert json.loads(environment["STUDIOBOT_BLENDER_QUEUES"]["Fn::Sub"]) == {
        "cpu-4.5": {
            "urgent": "${RenderBlender45UrgentQueue}",
            "normal": "${RenderBlender45Queue}",
            "low": "${RenderBlender45LowQueue}",
        }
    }
    # the render role takes and queues 4.5's tasks; the bot queues them
    arns = [{"Fn::GetAtt": [lane, "Arn"]} for lane in lanes]
    (take, _logs) = _statements(two_blenders, "BlenderQueuesRenderPolicy")
    assert take["Resource"] == arns and {"sqs:ReceiveMessage", "sqs:SendMessage"} <= set(take["Action"])
    (enqueue,) = _statements(two_blenders, "BlenderQueuesBotPolicy")
    assert enqueue["Resource"] == arns and enqueue["Action"] == "sqs:SendMessage"


def test_the_two_blender_template_passes_cfn_lint_and_deploys(
    two_blenders: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "template.json"
    path.write_text(json.dumps(two_blenders))
    linted = subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), "--ignore-checks", "W3005", "--", str(path)],
        capture_output=True,
        text=True,
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr
    with mock_aws():
        cloudformation = boto3.client("cloudformation", region_name="us-east-1")
        cloudformation.create_stack(
            StackName="studiobot-ci", TemplateBody=json.dumps(_without_layer(two_blenders))
        )
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.get_queue_url(QueueName="studiobot-ci-render-blender45-urgent")["QueueUrl"]
        redrive = json.loads(
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]["RedrivePolicy"]
        )
        assert redrive["deadLetterTargetArn"].endswith(":studiobot-ci-render-dlq")


def _without_layer(template: dict[str, Any]) -> dict[str, Any]:
    """The 4.5 resources and what they name, deployable in moto without the packaged zips."""
    keep = {name for name in template["Resources"] if "Blender45" in name or name.startswith("BlenderQueues")}
    keep |= {"RenderDeadLetterQueue", "RenderRole", "BotRole"}
    return {"Resources": {name: _plain(template["Resources"][name]) for name in keep}}


def _plain(resource: dict[str, Any]) -> dict[str, Any]:
    """A resource with the variables that name other parts of the stack cut down to what moto needs."""
    if resource["Type"] == "AWS::Lambda::Function":
        properties = dict(resource["Properties"], Environment={"Variables": {}})
        return dict(
            resource,
            Properties=properties,
            DependsOn=[
                name for name in resource.get("DependsOn", []) if "Blender45" in name or name == "RenderRole"
            ],
        )
    if resource["Type"] == "AWS::IAM::Role":
        return {
            "Type": "AWS::IAM::Role",
            "Properties": {"AssumeRolePolicyDocument": resource["Properties"]["AssumeRolePolicyDocument"]},
        }
    return resource


def test_a_blender_without_its_image_is_refused_at_packaging(tmp_path: Path) -> None:
    with pytest.raises(
        RuntimeError, match=r"no render image for Blender 4\.5: pass --param renderImageUris=4\.5="
    ):
        deploy.package(STAGE, params=("blenderVersions=4.5,5.0",), out=tmp_path / "package")


def test_the_deploy_builds_an_image_per_other_blender() -> None:
    assert deploy.other_blenders(["opsChannel=C1"]) == ()
    assert deploy.other_blenders(["blenderVersions=5.0,4.5"]) == ("4.5",)
    assert deploy.tag_of("4.5") == "blender45"
