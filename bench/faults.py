"""Faults benchmark: a 48-frame job rendered by four workers on moto's server while things go wrong on purpose.

Ten worker deaths (a worker stops at a chosen point — before rendering, after rendering a frame but before uploading
and recording it, after recording it but before deleting its message — and its message comes back after the
visibility timeout, as when a process is killed), 50 duplicate deliveries (copies of the job's task messages sent again), and 3 failed
publishes of the job's end (the studio-events topic unreachable). The 5-minute sweep runs every second here. The
notices are told by the local stack's notifier, as the stack log shows them.

Measured: frames expected and found (records and objects), notices expected and told, time until the queues drain.
"""

from __future__ import annotations

import logging
import random
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

from backend.aws.sns import SnsPublisher
from backend.commands import split_words
from backend.event_wire import parse_event
from backend.events import Event, JobCompleted
from backend.render.grammar import parse_render
from backend.render.records import FrameOutcome
from backend.render.tasks import RenderTask
from bench import faults_names, faults_notify, faults_state
from blender_image.scene_cache import SceneCache
from blender_image.worker import RenderWorker
from entry.expiry import sweep
from entry.wiring import Services
from local.embedded.notices import StackNotifier
from local.embedded.stack import deploy, start_moto_server, use_local_aws
from testing.renderer import Killed, PillowRenderer

FRAMES, WORKERS, KILLS, DUPLICATES, PUBLISH_FAILURES = 48, 4, 10, 50, 3
VISIBILITY_S = 2  # how soon a dead worker's message comes back (the stack's --visibility-timeout)
KILL_POINTS = ("before rendering", "after rendering", "after recording")


class FailingTopic:
    """The studio-events topic, unreachable for the first `failures` publishes of a job's end."""

    def __init__(self, topic: SnsPublisher, failures: int) -> None:
        self.topic = topic
        self.failures = failures
        self.lock = threading.Lock()

    def publish(self, event: Event) -> None:
        with self.lock:
            fail = isinstance(event, JobCompleted) and self.failures > 0
            self.failures -= fail
        if fail:
            raise ConnectionError("SNS was unreachable")
        self.topic.publish(event)


def run() -> dict[str, Any]:
    """Render the job through every fault; return faults.json."""
    random.seed(7)
    logging.getLogger("studiobot-render").setLevel(logging.WARNING)  # one line per frame otherwise
    logging.getLogger("backend.render.outbox").setLevel(logging.ERROR)  # the failed publishes are on purpose
    logging.getLogger("backend.render.bare_scenes").setLevel(logging.ERROR)  # a stand-in scene, not a .blend
    server = start_moto_server()
    try:
        info = deploy(server.endpoint, stack_name="studiobot-bench-faults")
        use_local_aws(server.endpoint)
        settings = info.settings(progress_interval_s=1.0)
        services = Services(settings)
        topic = SnsPublisher(settings.events_topic_arn)
        failing = FailingTopic(topic, PUBLISH_FAILURES)
        services.outbox.events = failing
        services.outbox.grace_s = 0.5
        adapters: list[Any] = [services.jobs, services.store, services.queue, topic]
        for adapter in adapters:
            assert adapter.client is not None  # made here: boto3 does not make clients safely in parallel
        sqs = boto3.client("sqs")
        boto3.client("s3").put_object(
            Bucket=settings.scenes_bucket, Key="scenes/shot.blend", Body=b"BLENDER-v500"
        )
        told: list[str] = []
        notices: list[str] = []
        notifier = StackNotifier(services, None, told.append)
        with tempfile.TemporaryDirectory(prefix="studiobot-faults-") as scratch:
            renderer = PillowRenderer()
            started = time.perf_counter()
            request = parse_render(split_words(f"shot.blend 1-{FRAMES} --res 32x18"))
            job = services.submissions.submit(request, requested_by="U0ARTIST", channel="C1").job
            assert job is not None
            bodies = _bodies(sqs, settings.render_queue_url)
            for body in bodies + random.choices(bodies, k=DUPLICATES):
                sqs.send_message(QueueUrl=settings.render_queue_url, MessageBody=body)
            kills = Kills(renderer)
            stop = threading.Event()
            threads = [
                threading.Thread(
                    target=_work, args=(services, renderer, Path(scratch) / f"w{n}", kills, stop)
                )
                for n in range(WORKERS)
            ]
            threads.append(
                threading.Thread(
                    target=_tell, args=(sqs, info.notifications_queue_url, notifier, told, notices, stop)
                )
            )
            threads.append(threading.Thread(target=_every_second, args=(lambda: sweep(services), stop)))
            for thread in threads:
                thread.start()
            while not (services.jobs.get(job.job_id).status.is_final and notices and _empty(sqs, settings)):
                time.sleep(0.2)
            drained_s = time.perf_counter() - started
            time.sleep(3 * VISIBILITY_S)  # anything still to come would come now
            stop.set()
            for thread in threads:
                thread.join()
        final = services.jobs.get(job.job_id)
        records = services.jobs.frames(job.job_id)
        objects = services.store.list_prefix(settings.outputs_bucket, job.output_prefix)
    finally:
        server.stop()
    frames = [obj for obj in objects if "/proxies/" not in obj.key]
    trust = {**faults_names.measure(), **faults_notify.measure(), **faults_state.measure()}
    return {
        "frames": FRAMES,
        "workers": WORKERS,
        "kills": kills.done,
        "duplicate_deliveries": DUPLICATES,
        "publish_failures": PUBLISH_FAILURES,
        "frames_expected": FRAMES,
        "frames_recorded": sum(record.outcome is FrameOutcome.DONE for record in records),
        "frames_counted": final.done,
        "frame_objects": len(frames),
        "notices_expected": 1,
        "notices_told": len(notices),
        "publish_failures_met": PUBLISH_FAILURES - failing.failures,
        "status": str(final.status),
        "drain_s": round(drained_s, 2),
        **trust,
    }


def _bodies(sqs: Any, url: str) -> list[str]:
    """The job's task messages, taken off the queue (they are sent back with the duplicates)."""
    bodies: list[str] = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


class Kills:
    """Which frames' first deliveries die, and where ('after rendering' ones die inside the renderer)."""

    def __init__(self, renderer: PillowRenderer) -> None:
        frames = random.sample(range(1, FRAMES + 1), KILLS)
        self.planned = {frame: KILL_POINTS[index % 3] for index, frame in enumerate(frames)}
        renderer.die_after = {frame for frame, point in self.planned.items() if point == "after rendering"}
        self.done = 0
        self.lock = threading.Lock()

    def take(self, task: RenderTask) -> str | None:
        """Where this delivery dies, if it is the one planned to (each kill happens once)."""
        with self.lock:
            point = self.planned.pop(task.frames[0], None)
            self.done += point is not None
            return point


def _work(
    services: Services, renderer: PillowRenderer, work_dir: Path, kills: Kills, stop: threading.Event
) -> None:
    sqs = boto3.client("sqs")
    url = services.settings.render_queue_url
    worker = RenderWorker(
        jobs=services.jobs,
        reporter=services.reporter,
        scenes=SceneCache(services.store, work_dir / "scenes"),
        renderer=renderer,
        uploader=services.store,
        work_dir=work_dir,
    )
    while not stop.is_set():
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=1, VisibilityTimeout=VISIBILITY_S
        )
        for message in messages.get("Messages", []):
            task = RenderTask.from_json(message["Body"])
            point = kills.take(task)
            if point == "before rendering":
                continue
            try:
                worker.run(task)
            except Killed:  # inside the renderer, after it wrote the frame
                continue
            except Exception:
                continue  # SQS delivers it again
            if point == "after recording":
                continue
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _tell(
    sqs: Any, url: str, notifier: StackNotifier, told: list[str], notices: list[str], stop: threading.Event
) -> None:
    """The stack's notifier (it says into `told`); `notices` gets what it told of a job's end (progress lines
    are not notices: on Slack they update the card)."""
    while not stop.is_set():
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        ):
            before = len(told)
            notifier.handle(message["Body"], tries=1)
            if isinstance(parse_event(message["Body"]), JobCompleted):
                notices.extend(told[before:])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _every_second(job: Callable[[], Any], stop: threading.Event) -> None:
    while not stop.wait(1.0):
        job()


def _empty(sqs: Any, settings: Any) -> bool:
    attributes = sqs.get_queue_attributes(
        QueueUrl=settings.render_queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return all(int(value) == 0 for value in attributes.values())
