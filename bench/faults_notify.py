"""Notice faults benchmark: poison messages and a Slack outage, on moto's server and a loopback fake Slack.

Poison: one message of each kind nobody can read (not JSON, a JSON array, an unknown type, a known type with a field
missing, one with fields of the wrong type, a body near SNS's 256 KB limit) is published on the studio-events topic
and sent straight to the notifications queue; then jobs end (frames recorded as a worker records them) and the
local stack's notifier loop must post each job's completion reply. Outage: Slack answers 503 from the moment a job
ends for 45 minutes of a moved clock (the notifier's waits are taken from the clock, not slept); every notice must
be posted once Slack is back, none set aside.

Measured: poison messages sent, jobs ended after them and their completion replies posted; outage minutes and
notices lost.
"""

from __future__ import annotations

import heapq
import json
import threading
import time
from dataclasses import replace
from typing import Any

import boto3

from backend.commands import split_words
from backend.render.grammar import parse_render
from backend.render.store import DynamoJobs
from bot.app import web_client
from bot.notifier import SlackNotifier
from entry.wiring import Services
from local.embedded.notices import StackNotifier, Told, notify_loop
from local.embedded.stack import deploy, start_moto_server, use_local_aws
from testing.renderer import leave_frames

JOBS = 3
OUTAGE_S = 45 * 60
CHANNEL = "C0RENDERS"
POISON = [
    "this is not JSON {",
    "[1, 2, 3]",
    json.dumps({"type": "JobTeleported", "version": 1, "job_id": "r-1"}),
    json.dumps({"type": "JobCompleted", "version": 1, "job_id": "r-1"}),
    json.dumps({"type": "JobCompleted", "version": 1, "job_id": ["r-1"], "status": 5, "done": "all"}),
    "{" + "x" * 200_000,
]


class Clock:
    """Time that moves when the notifier sleeps or the benchmark says so."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def measure() -> dict[str, Any]:
    """Poison on the topic and the queue, then jobs; a Slack outage of 45 minutes with the clock moved."""
    from testing.slack import FakeSlack  # the loopback Slack the tests use; never the real one

    server = start_moto_server(0)
    try:
        use_local_aws(server.endpoint)
        info = deploy(server.endpoint)
        with FakeSlack() as slack:
            settings = replace(info.settings(), slack_api_url=slack.base_url, card_update_interval_s=0.0)
            sent, jobs_ended, replies = _poison(info, settings, slack)
        with FakeSlack() as slack:
            settings = replace(info.settings(), slack_api_url=slack.base_url)
            outage_minutes, lost = _outage(info, settings, slack)
    finally:
        server.stop()
    return {
        "poison_messages_sent": sent,
        "jobs_after_poison": jobs_ended,
        "notices_after_poison": replies,
        "outage_minutes": outage_minutes,
        "outage_notices_lost": lost,
    }


def _poison(info: Any, settings: Any, slack: Any) -> tuple[int, int, int]:
    services = Services(settings)
    notifier = StackNotifier(services, _slack_notifier(services, time.sleep), lambda _: None)
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    for body in POISON:
        sns.publish(TopicArn=info.events_topic_arn, Message=body)
        sqs.send_message(QueueUrl=info.notifications_queue_url, MessageBody=body)
    stopping = threading.Event()
    loop = threading.Thread(
        target=notify_loop,
        args=(info.notifications_queue_url, notifier, stopping, lambda _: None),
        daemon=True,
    )
    loop.start()
    try:
        for _ in range(JOBS):
            _render(services, _submit(services), [1, 2, 3, 4])
        deadline = time.monotonic() + 30
        while len(slack.calls_to("files.completeUploadExternal")) < JOBS and time.monotonic() < deadline:
            time.sleep(0.1)
        ended = sum(job.status.is_final for job in services.jobs.recent(CHANNEL))
        return 2 * len(POISON), ended, len(slack.calls_to("files.completeUploadExternal"))
    finally:
        stopping.set()
        loop.join(timeout=15)


def _outage(info: Any, settings: Any, slack: Any) -> tuple[float, int]:
    clock = Clock()
    services = Services(settings, clock=clock, jobs=DynamoJobs(settings.table_name, clock=clock))
    job_id = _submit(services)
    boto3.client("sqs").purge_queue(QueueUrl=info.notifications_queue_url)
    notifier = StackNotifier(services, _slack_notifier(services, clock.sleep), lambda _: None)
    slack.outage(503)
    began = clock.now
    _render(services, job_id, [1, 2, 3, 4])
    due = [(clock.now, index, body, 1) for index, body in enumerate(_bodies(info.notifications_queue_url))]
    heapq.heapify(due)
    back_at, outcomes = 0.0, []
    while due:  # what the notifications queue does: each notice delivered again after the wait it asked for
        at, index, body, tries = heapq.heappop(due)
        clock.now = max(clock.now, at)
        if slack.outage_status and clock.now - began >= OUTAGE_S:
            slack.outage_over()
            back_at = began + OUTAGE_S
        outcome = notifier.handle(body, tries, f"m-{index}")
        if isinstance(outcome, int):
            heapq.heappush(due, (clock.now + outcome, index, body, tries + 1))
        else:
            outcomes.append(outcome)
    posted = [call for call in slack.calls_to("files.completeUploadExternal") if "_outage" not in call.args]
    lost = sum(outcome is not Told.DONE for outcome in outcomes) + (1 - len(posted))
    return round(((back_at or clock.now) - began) / 60, 1), lost  # Slack was down this long (a moved clock)


def _slack_notifier(services: Services, sleep: Any) -> SlackNotifier:
    return SlackNotifier(web_client(services.settings, "xoxb-bench"), services, sleep=sleep)


def _submit(services: Services) -> str:
    services.store.client.put_object(
        Bucket=services.settings.scenes_bucket, Key="scenes/shot.blend", Body=b"BLENDER-v500 not really"
    )
    job = services.submissions.submit(parse_render(split_words("shot.blend 1-4")), "U0ARTIST", CHANNEL).job
    assert job is not None
    return job.job_id


def _render(services: Services, job_id: str, frames: list[int]) -> None:
    """What a worker leaves behind for each frame: the picture, its proxy, the record."""
    leave_frames(services.store.client, services.settings.outputs_bucket, services.reporter, job_id, frames)


def _bodies(queue_url: str) -> list[str]:
    sqs, bodies = boto3.client("sqs"), []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
