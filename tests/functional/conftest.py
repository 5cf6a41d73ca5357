"""Functional fixtures: the stack's resources deployed into in-process moto from `infra/resources.yml`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from slack_bolt import App
from slack_sdk import WebClient

from backend.aws.s3 import S3Store
from backend.aws.sqs import SqsQueue
from backend.config import Access, Settings, SlackCredentials
from backend.event_wire import parse_event
from backend.events import Event
from backend.render.job_life import JobLifecycle
from backend.render.store import DynamoJobs
from backend.render.submit import SubmissionService
from bot.app import build_app, web_client
from entry.wiring import Services
from local.embedded import moto_patches
from local.embedded.stack import REPO_ROOT, StackInfo, deploy
from testing.renderer import leave_frames
from testing.slack import (
    APP_ID,
    TEAM,
    FakeSlack,
    dispatch_signed,
    interaction_body,
    slash_command_body,
)
from tests.iam import harness

moto_patches.apply()
harness.install()


@pytest.fixture(scope="session", autouse=True)
def iam_policies() -> Iterator[None]:
    """The roles' policies, packaged once before the first test (a test's timing never pays for it)."""
    from tests.iam.policy import role_statements

    role_statements()
    yield
    if path := os.environ.get(harness.ENV_COUNTS):
        harness.write_counts(path)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """A test fails when any AWS call it made was refused by its component's role (tests/iam)."""
    harness.begin_test()
    result = yield
    if denials := harness.denials_of_this_test():
        raise AssertionError("AWS would refuse these calls:\n" + "\n".join(denials))
    return result


@dataclass
class Stack:
    """The deployed resources plus the services built on them, as a handler would compose them."""

    info: StackInfo
    settings: Settings
    s3: Any
    sqs: Any
    store: S3Store
    jobs: DynamoJobs
    queue: SqsQueue
    reporter: JobLifecycle
    service: SubmissionService
    received: list[Event] = field(default_factory=list)

    def put_scene(self, name: str = "shot.blend", body: bytes = b"BLENDER-v500 not really") -> str:
        key = f"{self.settings.scenes_prefix}{name}"
        self.s3.put_object(Bucket=self.settings.scenes_bucket, Key=key, Body=body)
        return key

    def render_frames(self, job_id: str, frames: list[int], failed: list[int] | tuple[int, ...] = ()) -> None:
        """What workers leave behind: each frame's picture and its proxy in the outputs bucket, the frame counted;
        `failed` frames recorded failed."""
        leave_frames(self.s3, self.settings.outputs_bucket, self.reporter, job_id, frames, failed)

    def queued_bodies(self, queue_url: str | None = None) -> list[str]:
        """Drain a queue and return the message bodies."""
        url = queue_url or self.settings.render_queue_url
        bodies: list[str] = []
        while True:
            messages = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return bodies
            for message in messages:
                bodies.append(message["Body"])
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def events(self) -> list[Event]:
        """Every event published so far (read from the notifications queue subscribed to the topic)."""
        for body in self.queued_bodies(self.info.notifications_queue_url):
            self.received.append(parse_event(body))
        return self.received


@pytest.fixture
def stack() -> Iterator[Stack]:
    with mock_aws():
        info = deploy(None)
        settings = info.settings(progress_interval_s=5.0)
        store = S3Store()
        jobs = DynamoJobs(settings.table_name)
        queue = SqsQueue(settings.render_queue_url)
        services = Services(settings, store=store, jobs=jobs, queue=queue)
        yield Stack(
            info=info,
            settings=settings,
            s3=boto3.client("s3"),
            sqs=boto3.client("sqs"),
            store=store,
            jobs=jobs,
            queue=queue,
            reporter=services.reporter,
            service=services.submissions,
        )


def build_with_bpy(module: str, out: Path) -> Path:
    """Run one of the bpy build scripts (in its own process: bpy keeps one scene per process) into `out`."""
    subprocess.run(
        [sys.executable, "-m", module, str(out)], check=True, cwd=REPO_ROOT, stdout=subprocess.DEVNULL
    )
    return out


@pytest.fixture(scope="session")
def sample_scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_with_bpy(
        "blender_image.sample.build_sample_scene", tmp_path_factory.mktemp("sample") / "turntable.blend"
    )


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shots of `tests/shots/build_shots.py`, built once for the session."""
    return build_with_bpy("tests.shots.build_shots", tmp_path_factory.mktemp("shots"))


SECRET = "test-signing-secret"
ARTIST, OTHER, ADMIN = "U0ARTIST", "U0OTHER", "U0ADMIN"
CHANNEL = "C0RENDERS"


@dataclass
class Bot:
    app: App
    slack: FakeSlack
    stack: Stack
    services: Services

    def command(self, text: str, user: str = ARTIST, channel: str = CHANNEL, trigger: str = "t1") -> Any:
        body = slash_command_body(
            text,
            user_id=user,
            channel_id=channel,
            response_url=self.slack.response_url(trigger),
            trigger_id=trigger,
        )
        return dispatch_signed(self.app, body, SECRET)

    def command_as(self, command: str, text: str, user: str = ARTIST, trigger: str = "t1") -> Any:
        body = slash_command_body(
            text,
            command=command,
            user_id=user,
            channel_id=CHANNEL,
            response_url=self.slack.response_url(trigger),
            trigger_id=trigger,
        )
        return dispatch_signed(self.app, body, SECRET)

    def click(self, action_id: str, job_id: str, user: str = ARTIST, channel: str = CHANNEL) -> Any:
        payload = {
            "type": "block_actions",
            "user": {"id": user},
            "channel": {"id": channel},
            "team": {"id": "T0001"},
            "trigger_id": "t-click",
            "response_url": self.slack.response_url("click"),
            "actions": [
                {"action_id": action_id, "value": job_id, "type": "button", "block_id": f"job:{job_id}"}
            ],
            "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": channel},
        }
        return dispatch_signed(self.app, interaction_body(payload), SECRET)

    def replies(self, count: int = 1) -> list[dict[str, Any]]:
        """What the user saw in response_url answers (ephemeral)."""
        return [call.args for call in self.slack.wait_for("response_url", count)]


@pytest.fixture
def bot(stack: Stack) -> Iterator[Bot]:
    with FakeSlack() as slack:
        settings = replace(
            stack.settings,
            slack_api_url=slack.base_url,
            access=Access(admins=frozenset({ADMIN})),
            slack_team_id=TEAM["team_id"],
            slack_app_id=APP_ID,
        )
        services = Services(settings)
        client: WebClient = web_client(settings, "xoxb-test")
        app = build_app(settings, SlackCredentials("xoxb-test", SECRET), client=client, services=services)
        yield Bot(app, slack, stack, services)
