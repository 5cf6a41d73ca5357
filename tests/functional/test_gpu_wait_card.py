"""A gpu job no node took within 10 minutes: its card says so, with what to do, while it waits, and stops saying
it once a node takes a frame."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from backend.commands import split_words
from backend.config import SlackCredentials
from backend.render.grammar import parse_render
from bot.app import web_client
from bot.listeners.commands.render import post_card
from bot.notifier import SlackNotifier
from entry.expiry import sweep
from entry.wiring import Services
from testing.slack import FakeSlack

from .conftest import Stack

CHANNEL = "C0RENDERS"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def _card_text(slack: FakeSlack) -> str:
    """Everything the card's latest update says."""
    update = slack.calls_to("chat.update")[-1]
    return "\n".join(str(block) for block in update.args["blocks"])


def test_the_card_says_no_gpu_node_took_the_job_until_one_takes_a_frame(
    stack: Stack, slack: FakeSlack
) -> None:
    # GIVEN a gpu job submitted while a node was there, its card posted, and the node gone
    now = [1_000_000.0]
    settings = replace(stack.settings, slack_api_url=slack.base_url)
    services = Services(settings, clock=lambda: now[0])
    services.__dict__["jobs"] = stack.jobs
    stack.jobs._clock = lambda: now[0]
    stack.put_scene()
    services.roster.seen("gpu", "anna-ws")
    job = services.submissions.submit(parse_render(split_words("shot.blend 1-4 --on gpu")), "U1", CHANNEL).job
    assert job is not None
    services.roster.left("gpu", "anna-ws")
    client = web_client(settings, SlackCredentials("xoxb-test").bot_token)
    post_card(client, services, job.job_id, CHANNEL)
    notifier = SlackNotifier(client, services, sleep=lambda seconds: None)
    # WHEN the sweep finds it untaken after 10 minutes and the notifier hears it
    now[0] += 601
    assert sweep(services)["gpu_untaken"] == [job.job_id]
    for event in stack.events():
        notifier.handle(event)
    # THEN the thread hears it once, and the card shows it while the job waits
    (told,) = [call for call in slack.calls_to("chat.postMessage") if call.args.get("thread_ts")]
    assert "No GPU node has taken a frame" in told.args["text"]
    card = _card_text(slack)
    assert f"⏳ No GPU node has taken a frame of `{job.job_id}` in 10 min" in card
    assert "`studiobot node --class gpu`" in card and f"`/render cancel {job.job_id}`" in card
    # WHEN a node comes and renders a frame
    told_so_far = len(stack.events())
    now[0] += 60
    assert stack.jobs.start(job.job_id)
    stack.render_frames(job.job_id, [1])
    for event in stack.events()[told_so_far:]:
        notifier.handle(event)
    # THEN the card's next update no longer says it
    card = _card_text(slack)
    assert "1/4" in card and "No GPU node" not in card
