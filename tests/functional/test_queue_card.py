"""A job waiting behind another: its card says what is ahead and when it should start, is refreshed as the job ahead
moves on (the real notifier, the fake Slack, the job store in moto), and stops saying it once its first frame
starts; `/render status` says it too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import pytest

from backend.commands import Caller, split_words
from backend.config import SlackCredentials
from backend.render.grammar import RenderGrammar, parse_render
from bot.app import web_client
from bot.cards import card_store
from bot.listeners.commands.render import post_card, status_answer
from bot.notifier import SlackNotifier
from entry.wiring import Services
from testing.slack import FakeSlack

from .conftest import Stack

CHANNEL = "C0RENDERS"
AHEAD = re.compile(
    r"⏳ 1 job ahead \(1 frame: jobs of one priority take turns\) — starts in ~\d+ s at the current pace"
)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def _card_updates(slack: FakeSlack, ts: str) -> list[str]:
    """Everything each update of the card `ts` said, in order."""
    return [
        "\n".join(str(block) for block in call.args["blocks"])
        for call in slack.calls_to("chat.update")
        if call.args["ts"] == ts
    ]


def test_a_job_queued_behind_a_running_one_says_what_is_ahead_until_its_first_frame_starts(
    stack: Stack, slack: FakeSlack
) -> None:
    # GIVEN a 40-frame job rendering, 4 of its frames in after 10 s
    now = [1_000_000.0]
    settings = replace(stack.settings, slack_api_url=slack.base_url)
    services = Services(settings, clock=lambda: now[0])
    services.__dict__["jobs"] = stack.jobs
    stack.jobs._clock = lambda: now[0]
    stack.put_scene()
    client = web_client(settings, SlackCredentials("xoxb-test").bot_token)
    notifier = SlackNotifier(client, services, sleep=lambda seconds: None)
    big = services.submissions.submit(parse_render(split_words("shot.blend 1-40")), "U1", CHANNEL).job
    assert big is not None
    post_card(client, services, big.job_id, CHANNEL)
    assert stack.jobs.start(big.job_id)
    now[0] += 10
    stack.render_frames(big.job_id, [1, 2, 3, 4])
    # WHEN a small job is submitted behind it
    now[0] += 1
    small = services.submissions.submit(parse_render(split_words("shot.blend 1-4")), "U2", CHANNEL).job
    assert small is not None
    post_card(client, services, small.job_id, CHANNEL)
    # THEN its card says what is ahead of it and when it should start, from the first
    (posted,) = [call for call in slack.calls_to("chat.postMessage") if small.job_id in call.args["text"]]
    assert AHEAD.search("\n".join(str(block) for block in posted.args["blocks"]))
    card = card_store(services).card(small.job_id)
    assert card is not None
    # WHEN the job ahead moves on (its progress, heard by the notifier, a card interval later)
    told = len(stack.events())
    now[0] += 6
    stack.render_frames(big.job_id, [5, 6])
    for event in stack.events()[told:]:
        notifier.handle(event)
    # THEN the waiting card is refreshed with where it stands now
    updates = _card_updates(slack, card.ts)
    assert len(updates) == 1 and AHEAD.search(updates[0])
    # AND `/render status` of the waiting job says the same
    command = RenderGrammar().parse(split_words(f"status {small.job_id}"), settings)
    answer, _ = status_answer(services, services.desk.run(command, Caller("U2", CHANNEL)))
    assert AHEAD.search(answer)
    # WHEN its first frame starts, and the job ahead moves on again
    assert stack.jobs.start(small.job_id)
    told = len(stack.events())
    now[0] += 6
    stack.render_frames(big.job_id, [7, 8])
    for event in stack.events()[told:]:
        notifier.handle(event)
    # THEN its card no longer says what is ahead: it renders
    updates = _card_updates(slack, card.ts)
    assert len(updates) == 2 and "ahead" not in updates[-1] and "Rendering" in updates[-1]
    # AND once its frames come in, no update of it says it either
    told = len(stack.events())
    now[0] += 6
    stack.render_frames(small.job_id, [1])
    for event in stack.events()[told:]:
        notifier.handle(event)
    assert "1/4" in _card_updates(slack, card.ts)[-1] and "ahead" not in _card_updates(slack, card.ts)[-1]
