"""GPU nodes AWS Batch gave up on (RUNNABLE past the queue's 30 minutes: no capacity, or a Spot quota of 0) are told
in the job's thread, once, with what to check."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from backend.commands import split_words
from backend.config import SlackCredentials
from backend.event_wire import parse_event
from backend.events import NodesNotStarted
from backend.render.gpu_nodes import nodes_not_started
from backend.render.grammar import parse_render
from bot.app import web_client
from bot.listeners.commands.render import post_card
from bot.notifier import SlackNotifier
from entry.wiring import Services
from testing.slack import FakeSlack

from .conftest import Stack

CHANNEL = "C0RENDERS"
QUEUE = "arn:aws:batch:us-east-1:123456789012:job-queue/studiobot-prod-gpu"
EVENT = Path(__file__).resolve().parents[1] / "events" / "eventbridge_batch_nodes_cancelled.json"


def _event(job_id: str = "r0123abcde", **detail: Any) -> dict[str, Any]:
    event = copy.deepcopy(json.loads(EVENT.read_text()))
    event["detail"]["jobName"] = f"render-{job_id}"
    event["detail"].update(detail)
    return dict(event)


def test_nodes_cancelled_before_they_started_become_a_notice_for_their_job() -> None:
    notice = nodes_not_started(_event(), QUEUE)
    assert notice == NodesNotStarted(
        job_id="r0123abcde", batch_job_id="4c7599ae-0a82-49aa-ba5a-4727fcce14a8", waited_s=1800.0
    )
    assert parse_event(notice.to_json()) == notice  # it travels on the topic as any event does


@pytest.mark.parametrize(
    "detail",
    [
        {"status": "SUCCEEDED"},
        {"status": "RUNNABLE"},
        {
            "attempts": [{"exitCode": 1}]
        },  # a node ran and failed: the task's own retries and dead letters tell it
        {"jobName": "nightly-backup"},  # not a render node
        {"jobQueue": "arn:aws:batch:us-east-1:123456789012:job-queue/someone-else"},
    ],
)
def test_anything_else_batch_says_is_not_told(detail: dict[str, Any]) -> None:
    assert nodes_not_started(_event(**detail), QUEUE) is None
    assert nodes_not_started({"source": "aws.batch", "detail": "unreadable"}, QUEUE) is None
    assert nodes_not_started(_event(), "") is None  # a deployment without GPU nodes has no queue of its own
    assert nodes_not_started(_event(), "studiobot-prod-gpu") is not None  # the queue named by name


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def test_the_thread_hears_why_its_gpu_nodes_never_came_once(stack: Stack, slack: FakeSlack) -> None:
    # GIVEN a gpu render with its card posted
    settings = replace(stack.settings, slack_api_url=slack.base_url)
    services = Services(settings)
    services.__dict__["jobs"] = stack.jobs
    stack.put_scene()
    services.roster.seen(
        "gpu", "gpu-node-1"
    )  # a node was there at submission (none is refused: test_cli_gpu)
    submission = services.submissions.submit(
        parse_render(split_words("shot.blend 1-4 --on gpu")), "U0ARTIST", CHANNEL
    )
    assert submission.job is not None
    job_id = submission.job.job_id
    client = web_client(settings, SlackCredentials("xoxb-test").bot_token)
    post_card(client, services, job_id, CHANNEL)
    notifier = SlackNotifier(client, services)
    # WHEN AWS Batch cancels its nodes after 30 minutes RUNNABLE: the array job and each child say FAILED
    parent = nodes_not_started(_event(job_id), QUEUE)
    child = nodes_not_started(_event(job_id, jobId="4c7599ae-0a82-49aa-ba5a-4727fcce14a8:2"), QUEUE)
    assert parent is not None and child is not None
    for notice in (parent, child, parent):  # SNS delivers at least once
        notifier.handle(notice)
    # THEN the thread hears it once, with the cause and what to run
    (said,) = [call for call in slack.calls_to("chat.postMessage") if call.args.get("thread_ts")]
    assert said.args["text"] == (
        f"⏳ No GPU node started for `{job_id}` in 30 min, so AWS Batch cancelled them: no GPU capacity or a Spot "
        "quota of 0: check `studiobot doctor`. The frames wait on the gpu queue for a node (your own "
        f"`studiobot node` takes them) or `/render cancel {job_id}`."
    )


def test_the_eventbridge_function_publishes_the_notice_for_its_own_queue(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from entry import ec2_events

    for name, value in replace(stack.settings, gpu_job_queue="studiobot-prod-gpu").to_env().items():
        monkeypatch.setenv(name, value)
    ec2_events.handler(_event("r0123abcde"), None)
    ec2_events.handler(_event("r0123abcde", status="SUCCEEDED"), None)
    notices = [event for event in stack.events() if isinstance(event, NodesNotStarted)]
    assert notices == [
        NodesNotStarted(
            job_id="r0123abcde", batch_job_id="4c7599ae-0a82-49aa-ba5a-4727fcce14a8", waited_s=1800.0
        )
    ]
