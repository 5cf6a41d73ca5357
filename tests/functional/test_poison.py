"""No poison message: every consumer of the stack's topics and queues survives one it cannot read — logs it once with
its id, sets it aside in its dead-letter queue (or drops it, at the end of the line) — and the next notice arrives."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest

from backend.commands import split_words
from backend.config import SlackCredentials
from backend.event_wire import UnknownEvent, parse_event
from backend.render.grammar import parse_render
from bot.app import web_client
from bot.listeners.commands.render import post_card
from bot.notifier import SlackNotifier
from entry.wiring import Services
from local.embedded.notices import StackNotifier, notify_loop
from local.embedded.poller import LocalContext, lambda_record
from testing.slack import FakeSlack

from .conftest import Stack

CHANNEL = "C0RENDERS"
EVENT = Path(__file__).resolve().parents[1] / "events" / "sns_job_completed.json"
# One of each kind a consumer may be handed: not JSON, not an object, a type it does not know, a known type with a
# field missing, a known type with fields of the wrong type, and a body near the 256 KB limit.
POISON = [
    "this is not JSON {",
    "[1, 2, 3]",
    json.dumps({"type": "JobTeleported", "version": 1, "job_id": "r-1"}),
    json.dumps({"type": "JobCompleted", "version": 1, "job_id": "r-1"}),
    json.dumps(
        {
            "type": "JobCompleted",
            "version": 1,
            "job_id": ["not", "a", "string"],
            "status": 5,
            "scene_key": None,
            "done": "all",
            "failed": 0,
            "total": {"x": 1},
        }
    ),
    "{" + "x" * 200_000,
]


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def _job_with_card(stack: Stack, slack: FakeSlack) -> tuple[Services, SlackNotifier, str]:
    settings = replace(stack.settings, slack_api_url=slack.base_url)
    services = Services(settings, store=stack.store, jobs=stack.jobs)
    stack.put_scene()
    submission = services.submissions.submit(parse_render(split_words("shot.blend 1-2")), "U0ARTIST", CHANNEL)
    assert submission.job is not None
    client = web_client(settings, SlackCredentials("xoxb-test").bot_token)
    post_card(client, services, submission.job.job_id, CHANNEL)
    return services, SlackNotifier(client, services, sleep=lambda _: None), submission.job.job_id


def test_every_poison_kind_parses_to_an_event_never_an_error() -> None:
    from backend.event_wire import MalformedEvent

    parsed = [parse_event(body) for body in POISON]
    assert [type(event) for event in parsed] == [
        MalformedEvent,
        MalformedEvent,
        UnknownEvent,
        MalformedEvent,
        MalformedEvent,
        MalformedEvent,
    ]
    assert all(
        len(event.to_json()) < 5_000 for event in parsed
    )  # a huge body is not kept whole in a log line


def test_poison_on_the_events_topic_is_set_aside_once_and_the_next_jobs_notice_arrives(
    stack: Stack, slack: FakeSlack
) -> None:
    services, slack_notifier, job_id = _job_with_card(stack, slack)
    for body in POISON:
        boto3.client("sns").publish(TopicArn=stack.info.events_topic_arn, Message=body)
    said: list[str] = []
    stopping = threading.Event()
    loop = threading.Thread(
        target=notify_loop,
        args=(
            stack.info.notifications_queue_url,
            StackNotifier(services, slack_notifier, said.append),
            stopping,
        ),
        kwargs={"say": said.append},
        daemon=True,
    )
    loop.start()
    try:
        stack.render_frames(
            job_id, [1, 2]
        )  # the job ends after the poison: its completion must still be told
        (complete,) = slack.wait_for("files.completeUploadExternal", timeout=30)
        assert "all 2 frames of `scenes/shot.blend` rendered" in complete.args["initial_comment"]
        assert loop.is_alive()
    finally:
        stopping.set()
        loop.join(timeout=10)
    set_aside = [line for line in said if "set aside" in line]
    assert len(set_aside) == len(POISON), said  # each told once, with its message id
    dead_letters = stack.info.notifications_queue_url.rsplit("/", 1)[-1] + "-dlq"
    dead = stack.queued_bodies(stack.sqs.get_queue_url(QueueName=dead_letters)["QueueUrl"])
    assert sorted(dead) == sorted(POISON)


def test_the_notifier_lambda_logs_and_drops_what_it_cannot_read_and_delivers_the_rest(
    stack: Stack, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    import entry.notifier as notify_lambda
    from entry import wiring

    handled: list[Any] = []

    class Recorder:
        def handle(self, event: Any) -> None:
            handled.append(event)

    monkeypatch.setattr(wiring, "slack_notifier", lambda: Recorder())
    template = json.loads(EVENT.read_text())["Records"][0]
    good = parse_event(json.dumps({"type": "JobApproved", "version": 1, "job_id": "r-1", "by": "U0ADMIN"}))
    records = [
        {**template, "Sns": {**template["Sns"], "MessageId": f"m-{index}", "Message": body}}
        for index, body in enumerate([*POISON, good.to_json()])
    ]
    notify_lambda.handler({"Records": records}, None)  # no exception: SNS would retry it for nothing
    assert handled == [good]


def _sqs_event(stack: Stack, queue_url: str, bodies: list[str]) -> dict[str, Any]:
    arn = stack.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    messages = [
        {"MessageId": f"m-{index}", "ReceiptHandle": f"r-{index}", "Body": body, "Attributes": {}}
        for index, body in enumerate(bodies)
    ]
    return {"Records": [lambda_record(message, arn) for message in messages]}


def test_the_dead_letter_lambda_drops_what_it_cannot_read_instead_of_failing_it_for_ever(
    stack: Stack,
) -> None:
    from entry.dead_letters import handler

    event = _sqs_event(stack, stack.info.render_dlq_url, POISON)
    assert handler(event, LocalContext("dlq")) == {"batchItemFailures": []}


def test_the_render_lambda_fails_only_the_unreadable_task_so_sqs_dead_letters_it(stack: Stack) -> None:
    from entry.render import handler

    event = _sqs_event(stack, stack.settings.render_queue_url, POISON)
    with pytest.raises(Exception, match="All records failed"):  # Powertools: the whole batch back to SQS
        handler(event, LocalContext("render"))


def test_a_render_node_survives_an_unreadable_task_and_leaves_it_for_the_dead_letters(
    stack: Stack, tmp_path: Path
) -> None:
    from blender_image.node import RenderNode

    services = Services(stack.settings, store=stack.store, jobs=stack.jobs)
    for body in POISON:
        stack.sqs.send_message(QueueUrl=stack.settings.gpu_queue_url, MessageBody=body)
    node = RenderNode(
        stack.sqs,
        stack.settings.gpu_queue_url,
        worker=None,  # type: ignore[arg-type]  # never reached: nothing here is a task
        jobs=stack.jobs,
        events=services.events,
        name="node-1",
        render_class="gpu",
        idle_exit_s=0.5,
        visibility_s=60,
        wait_s=0,
    )
    assert node.run() == 0
    attributes = stack.sqs.get_queue_attributes(
        QueueUrl=stack.settings.gpu_queue_url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == str(len(POISON))  # each back after a wait


def test_the_budget_and_ec2_lambdas_drop_what_they_cannot_read(stack: Stack) -> None:
    from backend.budgets.notifications import handle_message
    from backend.workstations.ec2 import Ec2Workstations
    from backend.workstations.ec2_events import alert_for

    services = Services(stack.settings, store=stack.store, jobs=stack.jobs)
    for body in POISON:
        assert handle_message(body, services.events, services.guard) is False
    kinds = ["EC2 Spot Instance Interruption Warning", "EC2 Instance State-change Notification"]
    for detail in [None, "stopped", [1], {"instance-id": ["i-1"], "state": "stopped"}]:
        for kind in kinds:
            assert alert_for({"detail-type": kind, "detail": detail}, Ec2Workstations()) is None
