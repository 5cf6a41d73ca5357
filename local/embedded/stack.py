"""The embedded local stack's AWS: moto's server on 127.0.0.1, resources deployed from `infra/resources.yml`."""

from __future__ import annotations

import json
import logging
import os
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.exceptions import HTTPClientError

from backend.config import (
    ENV_AWS_ENDPOINT_URL,
    ENV_EVENTS_TOPIC_ARN,
    ENV_GPU_DLQ_URL,
    ENV_GPU_QUEUE_URL,
    ENV_OUTPUTS_BUCKET,
    ENV_RENDER_DLQ_URL,
    ENV_RENDER_QUEUE_URL,
    ENV_SCENES_BUCKET,
    ENV_STAGE,
    ENV_TABLE,
    Settings,
)
from backend.render.blenders import DEFAULT_BLENDER
from backend.render.lanes import LaneSettings
from local.deployer.documents import create_in
from local.embedded.blenders import make_queues
from local.embedded.buckets import apply_lifecycles, apply_time_to_live

REPO_ROOT = Path(__file__).resolve().parents[2]
RESOURCES_TEMPLATE = REPO_ROOT / "infra" / "resources.yml"
REGION = "us-east-1"
# moto accepts any credentials; these are fixed so nothing can reach a real account by accident.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}
CLI_FEED_PREFIX = "studiobot-cli-"  # the queue a watching `studiobot render` reads the topic's events from
# What botocore raises when nothing answers at the endpoint (refused, reset, timed out): the stack went away.
STACK_GONE = (BotoConnectionError, HTTPClientError)

if TYPE_CHECKING:
    from local.embedded.gate import Gate


@dataclass(frozen=True)
class StackInfo:
    """Where the local stack's AWS lives and the names of what it deployed."""

    endpoint: str
    stack_name: str
    scenes_bucket: str
    outputs_bucket: str
    table_name: str
    render_queue_url: str
    render_dlq_url: str
    events_topic_arn: str
    notifications_queue_url: str
    gpu_queue_url: str = ""  # the `gpu` render class's queue (render nodes)
    gpu_dlq_url: str = ""
    lanes: dict[str, str] = field(default_factory=dict)  # the urgent and low lanes (`backend.render.lanes`)

    def settings(self, **overrides: Any) -> Settings:
        """Settings for this stack: its resource names over whatever else the environment configures."""
        return Settings.from_env({**os.environ, **self.environ()}, **overrides)

    def environ(self) -> dict[str, str]:
        """Environment for a process that talks to this stack (credentials, endpoint, resource names)."""
        return {
            **FAKE_CREDENTIALS,
            ENV_AWS_ENDPOINT_URL: self.endpoint,
            ENV_STAGE: "local",
            ENV_SCENES_BUCKET: self.scenes_bucket,
            ENV_OUTPUTS_BUCKET: self.outputs_bucket,
            ENV_TABLE: self.table_name,
            ENV_RENDER_QUEUE_URL: self.render_queue_url,
            ENV_RENDER_DLQ_URL: self.render_dlq_url,
            ENV_GPU_QUEUE_URL: self.gpu_queue_url,
            ENV_GPU_DLQ_URL: self.gpu_dlq_url,
            ENV_EVENTS_TOPIC_ARN: self.events_topic_arn,
            **self.lanes,
        }

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, path: Path) -> StackInfo:
        return cls(**json.loads(path.read_text()))


def use_local_aws(endpoint: str) -> None:
    """Point this process's boto3 at the local stack (and never at a real account)."""
    os.environ.update(FAKE_CREDENTIALS)
    os.environ[ENV_AWS_ENDPOINT_URL] = endpoint


@dataclass
class MotoServer:
    """moto's server running in a thread of this process, behind the gate that lets a snapshot pause it."""

    server: Any
    thread: threading.Thread
    gate: Gate
    endpoint: str

    def stop(self) -> None:
        """Stop serving, then forget every resource (moto keeps them in this process's memory).

        In that order, behind a closed gate: a client still calling (a watching `studiobot render`) finds a stack
        that went away, which it can tell apart, rather than an empty AWS.
        """
        from moto.moto_api._internal.models import moto_api_backend

        self.gate.close()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
        moto_api_backend.reset()  # what `POST /moto-api/reset` does


def start_moto_server(port: int = 0) -> MotoServer:
    """Start moto's server on 127.0.0.1 (port 0: any free port).

    What moto's `ThreadedMotoServer` does, with `local.embedded.gate.Gate` in front of moto's application.
    """
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    from local.embedded import moto_patches
    from local.embedded.gate import Gate

    moto_patches.apply()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    gate = Gate(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", port, gate, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="moto", daemon=True)
    thread.start()
    host, bound_port = server.server_address[:2]
    endpoint = f"http://{host!s}:{bound_port}"
    os.environ["MOTO_PORT"] = str(bound_port)  # moto's own state-machine runner calls back on this port
    # No Docker here: Lambda echoes, and a Batch job (a gpu node) is marked done instead of run in a container.
    _post(f"{endpoint}/moto-api/config", {"lambda": {"use_docker": False}, "batch": {"use_docker": False}})
    return MotoServer(server, thread, gate, endpoint)


def _post(url: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def deploy(
    endpoint: str | None,
    stack_name: str = "studiobot-local",
    template: str | None = None,
    blenders: tuple[str, ...] = (DEFAULT_BLENDER,),
) -> StackInfo:
    """Create the resources of `infra/resources.yml` in moto's CloudFormation, plus the terminal's subscription.

    `endpoint` is the moto server's URL, or None inside `moto.mock_aws` (in-process, as unit tests use it);
    `template`: another template's text (tests); `blenders`: the Blenders it renders with (each other than 5.0 gets
    its own lanes, `local.embedded.blenders`).
    """
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    cloudformation = session.client("cloudformation", endpoint_url=endpoint)
    body = template or RESOURCES_TEMPLATE.read_text()
    cloudformation.create_stack(StackName=stack_name, TemplateBody=body)
    description = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    if description["StackStatus"] != "CREATE_COMPLETE":
        raise RuntimeError(f"local stack did not deploy: {description['StackStatus']}")
    summaries = cloudformation.list_stack_resources(StackName=stack_name)["StackResourceSummaries"]
    buckets = {item["LogicalResourceId"]: item["PhysicalResourceId"] for item in summaries}
    apply_lifecycles(
        session.client("s3", endpoint_url=endpoint), buckets, body
    )  # moto's CloudFormation skips them
    apply_time_to_live(session.client("dynamodb", endpoint_url=endpoint), buckets, body)  # and this
    # the presence document: on AWS a stack resource made from the same scripts
    create_in(session.client("ssm", endpoint_url=endpoint))
    outputs = {item["OutputKey"]: item["OutputValue"] for item in description.get("Outputs", [])}
    # On AWS the notifier Lambda subscribes to the topic; locally the terminal notifier reads this queue.
    sqs = session.client("sqs", endpoint_url=endpoint)
    sns = session.client("sns", endpoint_url=endpoint)
    notifications_url = subscribe_queue(sqs, sns, outputs["EventsTopicArn"], f"{stack_name}-notifications")
    return StackInfo(
        endpoint=endpoint or "",
        stack_name=stack_name,
        scenes_bucket=outputs["ScenesBucketName"],
        outputs_bucket=outputs["OutputsBucketName"],
        table_name=outputs["JobsTableName"],
        render_queue_url=outputs["RenderQueueUrl"],
        render_dlq_url=outputs["RenderDeadLetterQueueUrl"],
        events_topic_arn=outputs["EventsTopicArn"],
        notifications_queue_url=notifications_url,
        gpu_queue_url=outputs["GpuRenderQueueUrl"],
        gpu_dlq_url=outputs["GpuRenderDeadLetterQueueUrl"],
        lanes=LaneSettings(
            render_urgent_url=outputs["RenderUrgentQueueUrl"],
            render_low_url=outputs["RenderLowQueueUrl"],
            gpu_urgent_url=outputs["GpuRenderUrgentQueueUrl"],
            gpu_low_url=outputs["GpuRenderLowQueueUrl"],
            blenders=blenders,
            versioned=make_queues(sqs, outputs["RenderQueueUrl"], blenders),
        ).to_env(),
    )


def subscribe_queue(sqs: Any, sns: Any, topic_arn: str, queue_name: str) -> str:
    """Create a queue that receives every event on the topic as raw JSON; return its URL."""
    return _subscribe(sqs, sns, topic_arn, queue_name)[0]


@contextmanager
def event_feed(sqs: Any, sns: Any, topic_arn: str, queue_name: str) -> Iterator[str]:
    """A queue receiving the topic's events for as long as the block runs; unsubscribed and deleted after."""
    queue_url, subscription_arn = _subscribe(sqs, sns, topic_arn, queue_name)
    try:
        yield queue_url
    finally:
        try:
            # Unsubscribe first: moto's SNS fails every later publish if a subscribed queue is gone.
            sns.unsubscribe(SubscriptionArn=subscription_arn)
            sqs.delete_queue(QueueUrl=queue_url)
        except STACK_GONE:
            pass  # the stack went away: the next `up` leaves CLI feeds behind (`local.embedded.persistence`)


def _subscribe(sqs: Any, sns: Any, topic_arn: str, queue_name: str) -> tuple[str, str]:
    queue_url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
    subscription = sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=attributes["QueueArn"],
        Attributes={"RawMessageDelivery": "true"},
        ReturnSubscriptionArn=True,
    )
    return str(queue_url), str(subscription["SubscriptionArn"])
