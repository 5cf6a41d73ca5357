"""Functional fixtures: the stack's resources deployed into in-process moto from `infra/resources.yml`."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from PIL import Image

from backend.aws.s3 import S3Store
from backend.aws.sns import SnsPublisher
from backend.aws.sqs import SqsQueue
from backend.config import Settings
from backend.events import Event, parse_event
from backend.jobs import DynamoJobs
from backend.progress import JobReporter
from backend.submit import SubmissionService
from backend.tasks import RenderSettings
from local import moto_patches
from local.stack import REPO_ROOT, StackInfo, deploy

moto_patches.apply()


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
    reporter: JobReporter
    service: SubmissionService
    received: list[Event] = field(default_factory=list)

    def put_scene(self, name: str = "shot.blend", body: bytes = b"BLENDER-v500 not really") -> str:
        key = f"{self.settings.scenes_prefix}{name}"
        self.s3.put_object(Bucket=self.settings.scenes_bucket, Key=key, Body=body)
        return key

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
        reporter = JobReporter(jobs, SnsPublisher(settings.events_topic_arn), settings.progress_interval_s)
        yield Stack(
            info=info,
            settings=settings,
            s3=boto3.client("s3"),
            sqs=boto3.client("sqs"),
            store=store,
            jobs=jobs,
            queue=queue,
            reporter=reporter,
            service=SubmissionService(store, jobs, queue, settings),
        )


class PillowRenderer:
    """A stand-in for Blender that writes a real picture per frame; can be told to fail frames."""

    def __init__(self, fail_frames: set[int] | None = None) -> None:
        self.fail_frames = fail_frames or set()
        self.rendered: list[int] = []

    def render(self, scene_path: Path, frame: int, settings: RenderSettings, out_stem: Path) -> Path:
        if frame in self.fail_frames:
            raise RuntimeError(f"Blender could not render frame {frame}: missing texture wood.png")
        size = settings.resolution or (32, 18)
        path = Path(f"{out_stem}_{frame:04d}{settings.extension}")
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", size, (frame * 10 % 255, 80, 160)).save(path, "PNG")
        self.rendered.append(frame)
        return path


@pytest.fixture(scope="session")
def sample_scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sample") / "turntable.blend"
    subprocess.run(
        [sys.executable, "-m", "blender_image.sample.build_sample_scene", str(path)],
        check=True,
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
    )
    return path
