"""GPU render nodes on AWS Batch: a phase starts one array job (one node per task, at most the deployment's maximum)
on moto's Batch, and the deployment's Batch resources (infra/batch.yml, `gpuNodes=true`) lint clean and deploy.

moto runs no container here (`batch.use_docker: false` marks each job succeeded) and needs what AWS does not: a
compute environment's `ServiceRole` (AWS uses its service-linked role when none is given), and subnets, security
groups and an instance profile that exist in its own EC2 and IAM.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from backend.aws.batch import MAX_ARRAY_SIZE, BatchNodes, nodes_for
from backend.errors import AwsError
from local.deployer import deploy

QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/studiobot-ci-render-gpu"
NODE_COMMAND = ["python", "-m", "entry.node", "--class", "gpu", "--idle-exit", "300"]
TRUST_EC2 = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
TRUST_BATCH = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "batch.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


@dataclass(frozen=True)
class Network:
    subnet: str
    security_group: str
    service_role: str  # moto wants one; AWS uses its service-linked role


@dataclass(frozen=True)
class Farm:
    job_queue: str
    job_definition: str


def _network() -> Network:
    ec2, iam = boto3.client("ec2"), boto3.client("iam")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="gpu-nodes", Description="render nodes", VpcId=vpc)["GroupId"]
    role = iam.create_role(RoleName="moto-batch-service", AssumeRolePolicyDocument=json.dumps(TRUST_BATCH))
    return Network(subnet, group, role["Role"]["Arn"])


@pytest.fixture
def farm() -> Iterator[Farm]:
    """The gpu job queue and node definition, made as batch.yml makes them (through the API)."""
    with mock_aws(config={"batch": {"use_docker": False}}):
        network = _network()
        iam, batch = boto3.client("iam"), boto3.client("batch")
        iam.create_role(RoleName="gpu-node-instance", AssumeRolePolicyDocument=json.dumps(TRUST_EC2))
        profile = iam.create_instance_profile(InstanceProfileName="gpu-node-instance")["InstanceProfile"]
        iam.add_role_to_instance_profile(
            InstanceProfileName="gpu-node-instance", RoleName="gpu-node-instance"
        )
        environment = batch.create_compute_environment(
            computeEnvironmentName="studiobot-ci-gpu",
            type="MANAGED",
            state="ENABLED",
            computeResources={
                "type": "SPOT",
                "allocationStrategy": "SPOT_PRICE_CAPACITY_OPTIMIZED",
                "minvCpus": 0,
                "maxvCpus": 64,
                "instanceTypes": ["g4dn", "g5", "g6"],
                "subnets": [network.subnet],
                "securityGroupIds": [network.security_group],
                "instanceRole": profile["Arn"],
            },
            serviceRole=network.service_role,
        )
        queue = batch.create_job_queue(
            jobQueueName="studiobot-ci-gpu",
            state="ENABLED",
            priority=1,
            computeEnvironmentOrder=[
                {"order": 1, "computeEnvironment": environment["computeEnvironmentArn"]}
            ],
        )
        batch.register_job_definition(
            jobDefinitionName="studiobot-ci-gpu-node",
            type="container",
            retryStrategy={"attempts": 1},
            containerProperties={
                "image": deploy.PLACEHOLDER_IMAGE,
                "command": NODE_COMMAND,
                "resourceRequirements": [
                    {"type": "GPU", "value": "1"},
                    {"type": "VCPU", "value": "4"},
                    {"type": "MEMORY", "value": "15000"},
                ],
                "environment": [{"name": "STUDIOBOT_GPU_QUEUE_URL", "value": QUEUE_URL}],
            },
        )
        yield Farm(queue["jobQueueArn"], "studiobot-ci-gpu-node")


def _described(job_id: str) -> dict[str, Any]:
    (job,) = boto3.client("batch").describe_jobs(jobs=[job_id])["jobs"]
    return job  # type: ignore[no-any-return]


def _environment(job: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item["value"] for item in job["container"]["environment"]}


def test_a_phase_gets_one_node_per_task_up_to_the_maximum() -> None:
    assert [nodes_for(tasks, max_nodes=16) for tasks in (0, 1, 3, 16, 240)] == [0, 1, 3, 16, 16]
    assert nodes_for(5, max_nodes=0) == 0


def test_a_phase_starts_one_array_job_named_after_the_render_job(farm: Farm) -> None:
    nodes = BatchNodes(
        farm.job_queue, farm.job_definition, environment={"STUDIOBOT_RENDER_TIMEOUT_S": "3600"}
    )

    batch_job = nodes.launch(nodes_for(tasks=5, max_nodes=16), "r0123abcd")

    assert batch_job is not None
    job = _described(batch_job)
    assert job["jobName"] == "render-r0123abcd"
    assert job["jobQueue"] == farm.job_queue
    assert job["arrayProperties"]["size"] == 5
    # every node reads the gpu queue named in the job definition, with what the fan-out adds
    environment = _environment(job)
    assert environment["STUDIOBOT_GPU_QUEUE_URL"] == QUEUE_URL
    assert environment["STUDIOBOT_RENDER_TIMEOUT_S"] == "3600"
    assert job["container"]["command"] == NODE_COMMAND
    children = boto3.client("batch").list_jobs(arrayJobId=batch_job)["jobSummaryList"]
    assert len(children) == 5


def test_one_node_is_a_plain_job(farm: Farm) -> None:
    batch_job = BatchNodes(farm.job_queue, farm.job_definition).launch(1, "r0123abcd")

    assert batch_job is not None
    job = _described(batch_job)
    assert "size" not in job.get("arrayProperties", {})
    assert _environment(job)["STUDIOBOT_GPU_QUEUE_URL"] == QUEUE_URL


class _RecordingBatch:
    """Batch's SubmitJob, recorded (moto would make every child of a 10,000-node array)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def submit_job(self, **request: Any) -> dict[str, str]:
        self.requests.append(request)
        return {"jobId": f"job-{len(self.requests)}", "jobName": request["jobName"]}


def test_an_array_never_asks_batch_for_more_than_it_allows_and_names_are_batch_safe() -> None:
    client = _RecordingBatch()
    nodes = BatchNodes("studiobot-ci-gpu", "studiobot-ci-gpu-node", client=client)

    assert nodes.launch(25_000, "r1.shot/010") == "job-1"

    (request,) = client.requests
    assert request["arrayProperties"] == {"size": MAX_ARRAY_SIZE}
    assert request["jobName"] == "render-r1-shot-010"
    assert "containerOverrides" not in request  # nothing added: the job definition's environment as it is


def test_nothing_starts_without_tasks_or_without_gpu_nodes_in_the_deployment() -> None:
    client = _RecordingBatch()
    assert BatchNodes("studiobot-ci-gpu", "studiobot-ci-gpu-node", client=client).launch(0, "r1") is None
    # a deployment without gpuNodes: the tasks wait on the gpu queue for a studio's own nodes
    assert BatchNodes("", "", client=client).launch(3, "r1") is None
    assert client.requests == []


def test_a_batch_refusal_reads_as_one_sentence(farm: Farm) -> None:
    nodes = BatchNodes("studiobot-ci-missing", farm.job_definition)

    with pytest.raises(AwsError) as refused:
        nodes.launch(3, "r0123abcd")

    assert refused.value.code == "ClientException"
    assert str(refused.value) == (
        "Could not start 3 GPU render nodes for `r0123abcd`: AWS Batch refused the job: check that this "
        "deployment has GPU nodes (`--param gpuNodes=true`) and that its job queue is enabled."
    )


# -- the deployment ----------------------------------------------------------------------------------------------

STAGE = "ci"
PREFIX = f"studiobot-{STAGE}"


@dataclass(frozen=True)
class Packaged:
    folder: Path
    template: dict[str, Any]


@pytest.fixture(scope="module")
def with_gpu_nodes(tmp_path_factory: pytest.TempPathFactory) -> Packaged:
    """`osls package` with `gpuNodes=true`, into a folder of its own (test_deploy packages the default)."""
    from local.embedded.stack import start_moto_server

    folder = tmp_path_factory.mktemp("gpu-nodes")
    deploy.build_layer()
    moto = start_moto_server()
    try:
        result = deploy.osls(
            "package",
            "--stage",
            STAGE,
            "--package",
            str(folder),
            *("--param", f"renderImageUri={deploy.PLACEHOLDER_IMAGE}"),
            *("--param", "gpuNodes=true"),
            *("--param", "gpuSubnets=subnet-0123456789abcdef0,subnet-0123456789abcdef1"),
            *("--param", "gpuSecurityGroups=sg-0123456789abcdef0"),
            env={**deploy.OFFLINE_ENV, "AWS_ENDPOINT_URL": moto.endpoint},
        )
    finally:
        moto.stop()
    assert result.returncode == 0, result.stdout + result.stderr
    template = json.loads((folder / "cloudformation-template-update-stack.json").read_text())
    return Packaged(folder, template)


def _statements(template: dict[str, Any], role: str) -> dict[str, dict[str, Any]]:
    (policy,) = template["Resources"][role]["Properties"]["Policies"]
    return {statement["Sid"]: statement for statement in policy["PolicyDocument"]["Statement"]}


def _get_att(resource: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [resource, "Arn"]}


@pytest.mark.slow
def test_with_gpu_nodes_the_template_passes_cfn_lint(with_gpu_nodes: Packaged) -> None:
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("cfn-lint")),
            "--ignore-checks",
            "W3005",  # as test_deploy: osls's DependsOn beside a GetAtt
            "--",
            str(with_gpu_nodes.folder / "cloudformation-template-update-stack.json"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_the_batch_resources_exist_only_with_gpu_nodes_and_scale_from_zero_on_spot(
    with_gpu_nodes: Packaged,
) -> None:
    template = with_gpu_nodes.template
    batch_yml = {
        name
        for name, item in template["Resources"].items()
        if item["Type"].startswith("AWS::Batch::") or name.startswith("GpuNode")
    }
    assert {"GpuComputeEnvironment", "GpuJobQueue", "GpuJobDefinition", "GpuNodeJobRole"} <= batch_yml
    for name in batch_yml:  # a deployment without gpuNodes creates none of it
        assert template["Resources"][name]["Condition"] == "GpuNodesOn", name
    assert template["Conditions"]["GpuNodesOn"] == {"Fn::Equals": [{"Ref": "GpuNodes"}, "true"]}

    environment = template["Resources"]["GpuComputeEnvironment"]["Properties"]
    resources = environment["ComputeResources"]
    assert (environment["Type"], resources["Type"]) == ("MANAGED", "SPOT")
    assert resources["AllocationStrategy"] == "SPOT_PRICE_CAPACITY_OPTIMIZED"
    assert "SpotIamFleetRole" not in resources  # that strategy uses no Spot Fleet
    assert resources["MinvCpus"] == 0 and "DesiredvCpus" not in resources  # nothing runs between jobs
    assert resources["InstanceTypes"] == {"Fn::Split": [",", "g4dn,g5,g6"]}
    assert resources["Ec2Configuration"] == [{"ImageType": "ECS_AL2023_NVIDIA"}]

    definition = template["Resources"]["GpuJobDefinition"]["Properties"]
    container = definition["ContainerProperties"]
    assert container["Command"] == NODE_COMMAND
    assert container["Image"] == deploy.PLACEHOLDER_IMAGE  # the render function's image
    requirements = {item["Type"]: str(item["Value"]) for item in container["ResourceRequirements"]}
    assert requirements == {"GPU": "1", "VCPU": "4", "MEMORY": "15000"}
    # a reclaimed node's attempt is retried, and so is one whose watchdog stopped a frame (75): the queue still has
    # work; anything else is SQS's to redeliver
    rules = definition["RetryStrategy"]["EvaluateOnExit"]
    assert [rule["Action"] for rule in rules] == ["RETRY", "RETRY", "RETRY", "EXIT"]
    assert [rule.get("OnExitCode") for rule in rules[1:3]] == ["143", "75"]
    assert definition["Timeout"]["AttemptDurationSeconds"] == 43200


@pytest.mark.slow
def test_a_node_has_the_render_functions_environment_and_permissions_for_the_gpu_queue(
    with_gpu_nodes: Packaged,
) -> None:
    template = with_gpu_nodes.template
    container = template["Resources"]["GpuJobDefinition"]["Properties"]["ContainerProperties"]
    node_env = {item["Name"]: item["Value"] for item in container["Environment"]}
    function_env = template["Resources"]["RenderLambdaFunction"]["Properties"]["Environment"]["Variables"]
    differing = {
        "STUDIOBOT_RENDER_TIMEOUT_S": "3600",  # a node's time per task, not Lambda's 15 minutes
        "STUDIOBOT_GPU_JOB_QUEUE": {"Ref": "GpuJobQueue"},  # the function's is empty without GPU nodes
        "STUDIOBOT_GPU_JOB_DEFINITION": f"{PREFIX}-gpu-node",
    }
    assert set(node_env) == set(function_env) | {"AWS_DEFAULT_REGION"}
    for name, value in function_env.items():
        expected = differing.get(name, value)
        assert (node_env[name] if isinstance(expected, dict) else str(node_env[name])) == expected, name

    render = _statements(template, "RenderRole")
    node = _statements(template, "GpuNodeJobRole")
    for sid in (
        "ListSupportFiles",
        "ReadScenes",
        "WriteFrames",
        "KeepAndStitchTiles",
        "RecordFrames",
        "GiveBackStitchClaims",
        "ReadBudgetGuard",
        "SpotPricesForEstimates",
    ):
        assert node[sid] == render[sid], sid
    assert node["PublishProgress"]["Resource"] == render["PublishProgress"]["Resource"]
    assert node["GpuQueueTasks"]["Action"] == render["RenderQueueEventSource"]["Action"]
    lanes = [_get_att(lane) for lane in ("GpuRenderUrgentQueue", "GpuRenderQueue", "GpuRenderLowQueue")]
    assert (
        node["GpuQueueTasks"]["Resource"] == lanes
    )  # its class's three lanes, nothing of the render Lambda's
    assert node["QueueTheRestAfterTheProbes"]["Resource"] == lanes
    assert node["LaunchGpuNodes"]["Action"] == render["LaunchGpuNodes"]["Action"] == "batch:SubmitJob"
    assert set(node) == {
        "GpuQueueTasks",
        "ListSupportFiles",
        "ReadScenes",
        "WriteFrames",
        "KeepAndStitchTiles",
        "RecordFrames",
        "GiveBackStitchClaims",
        "ReadBudgetGuard",
        "QueueTheRestAfterTheProbes",
        "LaunchGpuNodes",
        "SpotPricesForEstimates",
        "PublishProgress",
        "SayTheNodeIsThere",  # the node's roster item, which a `--on gpu` submission reads
    }
    # the roles that queue a job's tasks may start its nodes: on the gpu job queue with the node definition only
    account = "arn:${AWS::Partition}:batch:${AWS::Region}:${AWS::AccountId}"
    for role in ("BotRole", "RenderRole", "RenderDeadLettersRole"):
        assert _statements(template, role)["LaunchGpuNodes"]["Resource"] == [
            {"Fn::Sub": f"{account}:job-queue/{PREFIX}-gpu"},
            {"Fn::Sub": f"{account}:job-definition/{PREFIX}-gpu-node"},
            {"Fn::Sub": f"{account}:job-definition/{PREFIX}-gpu-node:*"},
        ]


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Tried to parse .* by moto's CloudFormation implementation:UserWarning")
def test_with_gpu_nodes_moto_creates_the_compute_environment_queue_and_node_definition(
    with_gpu_nodes: Packaged,
) -> None:
    template = json.loads(json.dumps(with_gpu_nodes.template))
    # moto's CloudFormation requires a ServiceRole, which AWS does not (it uses the service-linked role)
    template["Resources"]["GpuComputeEnvironment"]["Properties"]["ServiceRole"] = {
        "Ref": "MotoBatchServiceRoleArn"
    }
    template["Parameters"]["MotoBatchServiceRoleArn"] = {"Type": "String"}
    with mock_aws(config={"batch": {"use_docker": False}}):
        network = _network()
        cloudformation, s3 = boto3.client("cloudformation"), boto3.client("s3")
        create = json.loads((with_gpu_nodes.folder / "cloudformation-template-create-stack.json").read_text())
        cloudformation.create_stack(StackName=PREFIX, TemplateBody=json.dumps(create))
        bucket = cloudformation.describe_stack_resource(
            StackName=PREFIX, LogicalResourceId="ServerlessDeploymentBucket"
        )["StackResourceDetail"]["PhysicalResourceId"]
        for key in sorted(deploy._artifact_keys(template)):
            s3.upload_file(str(with_gpu_nodes.folder / key.rsplit("/", 1)[-1]), bucket, key)
        cloudformation.update_stack(
            StackName=PREFIX,
            TemplateBody=json.dumps(template),
            Capabilities=["CAPABILITY_NAMED_IAM"],
            Parameters=[
                {"ParameterKey": "GpuSubnets", "ParameterValue": network.subnet},
                {"ParameterKey": "GpuSecurityGroups", "ParameterValue": network.security_group},
                {"ParameterKey": "MotoBatchServiceRoleArn", "ParameterValue": network.service_role},
            ],
        )
        stack = cloudformation.describe_stacks(StackName=PREFIX)["Stacks"][0]
        assert stack["StackStatus"] == "UPDATE_COMPLETE"
        outputs = {item["OutputKey"]: item["OutputValue"] for item in stack["Outputs"]}

        batch = boto3.client("batch")
        (environment,) = batch.describe_compute_environments()["computeEnvironments"]
        assert environment["computeEnvironmentName"] == f"{PREFIX}-gpu"
        assert environment["computeResources"]["type"] == "SPOT"
        assert environment["computeResources"]["instanceTypes"] == ["g4dn", "g5", "g6"]
        (queue,) = batch.describe_job_queues()["jobQueues"]
        assert queue["jobQueueArn"] == outputs["GpuJobQueueArn"]
        (definition,) = batch.describe_job_definitions(jobDefinitionName=f"{PREFIX}-gpu-node")[
            "jobDefinitions"
        ]
        assert definition["containerProperties"]["command"] == NODE_COMMAND

        # the functions are told where to start nodes, and a launch reaches that queue with the node definition
        bot = boto3.client("lambda").get_function(FunctionName=f"{PREFIX}-bot")["Configuration"]
        variables = bot["Environment"]["Variables"]
        assert variables["STUDIOBOT_GPU_JOB_QUEUE"] == outputs["GpuJobQueueArn"]
        nodes = BatchNodes(variables["STUDIOBOT_GPU_JOB_QUEUE"], variables["STUDIOBOT_GPU_JOB_DEFINITION"])
        launched = nodes.launch(nodes_for(40, int(variables["STUDIOBOT_MAX_GPU_NODES"])), "r0123abcd")
        assert launched is not None
        job = _described(launched)
        assert job["arrayProperties"]["size"] == 16
        gpu_queue = boto3.client("sqs").get_queue_url(QueueName=f"{PREFIX}-render-gpu")["QueueUrl"]
        assert _environment(job)["STUDIOBOT_GPU_QUEUE_URL"] == gpu_queue
