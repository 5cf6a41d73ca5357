"""`/render` sent again: Slack's retries (the same payload, up to about 5 minutes later) and a person's re-send
within minutes return the first job; nothing new is queued (issue 12, item 2)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest

from backend.config import Access, SlackCredentials
from backend.render.desk import RESEND_HOLD_S
from bot.app import build_app, web_client
from entry.wiring import Services
from testing.slack import FakeSlack

from .conftest import ADMIN, CHANNEL, OTHER, SECRET, Bot, Stack

TRIGGER = "13345224609.738474920.8088930838d88f008e0"
MINUTE = 60.0


@dataclass
class Clock:
    now: float

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def timed(stack: Stack) -> Iterator[tuple[Bot, Clock]]:
    """The bot of `conftest.bot`, its services on a clock the test moves (Slack's signatures stay on real time)."""
    with FakeSlack() as slack:
        clock = Clock(time.time())
        settings = replace(
            stack.settings, slack_api_url=slack.base_url, access=Access(admins=frozenset({ADMIN}))
        )
        services = Services(settings, clock=clock)
        client = web_client(settings, "xoxb-test")
        app = build_app(settings, SlackCredentials("xoxb-test", SECRET), client=client, services=services)
        yield Bot(app, slack, stack, services), clock


def _first_job(bot: Bot, text: str = "shot.blend 1-4") -> str:
    bot.stack.put_scene()
    bot.command(text, trigger=TRIGGER)
    bot.slack.wait_for("chat.postMessage")
    (job,) = bot.stack.jobs.recent(CHANNEL)
    assert len(bot.stack.queued_bodies()) == 4
    return job.job_id


@pytest.mark.parametrize("late_by", [5 * MINUTE, 6 * MINUTE, 3 * 60 * MINUTE])
def test_a_slack_retry_however_late_returns_the_first_job_and_queues_nothing(
    timed: tuple[Bot, Clock], late_by: float
) -> None:
    bot, clock = timed
    job_id = _first_job(bot)
    clock.now += late_by

    bot.command("shot.blend 1-4", trigger=TRIGGER)  # Slack's retry: the very same payload

    (reply,) = bot.replies()
    assert f"it is job `{job_id}`" in reply["text"] and "Nothing new was queued" in reply["text"]
    assert [job.job_id for job in bot.stack.jobs.recent(CHANNEL)] == [job_id]
    assert bot.stack.queued_bodies() == [] and len(bot.slack.calls_to("chat.postMessage")) == 1


def test_slack_retries_at_one_and_five_minutes_make_one_job(timed: tuple[Bot, Clock]) -> None:
    bot, clock = timed
    job_id = _first_job(bot)
    for minutes in (1, 5):
        clock.now += minutes * MINUTE
        bot.command("shot.blend 1-4", trigger=TRIGGER)
    assert all(f"it is job `{job_id}`" in reply["text"] for reply in bot.replies(2))
    assert len(bot.stack.jobs.recent(CHANNEL)) == 1 and bot.stack.queued_bodies() == []


def test_the_same_words_sent_again_within_ten_minutes_are_the_first_job(timed: tuple[Bot, Clock]) -> None:
    bot, clock = timed
    job_id = _first_job(bot)
    clock.now += RESEND_HOLD_S - MINUTE
    bot.command("shot.blend   1-4", trigger="a-new-trigger")  # a person's re-send: a new command
    (reply,) = bot.replies()
    assert f"it is job `{job_id}`" in reply["text"]
    assert len(bot.stack.jobs.recent(CHANNEL)) == 1 and bot.stack.queued_bodies() == []


def test_the_same_words_after_the_hold_are_a_new_job(timed: tuple[Bot, Clock]) -> None:
    bot, clock = timed
    first = _first_job(bot)
    clock.now += RESEND_HOLD_S + 1
    bot.command("shot.blend 1-4", trigger="the-next-morning")
    bot.slack.wait_for("chat.postMessage", 2)
    assert [job.job_id for job in bot.stack.jobs.recent(CHANNEL)][1:] == [first]
    assert len(bot.stack.queued_bodies()) == 4


def test_other_words_or_another_person_are_another_job(timed: tuple[Bot, Clock]) -> None:
    bot, _ = timed
    _first_job(bot)
    bot.command("shot.blend 1-4 --samples 16", trigger="t2")
    bot.command("shot.blend 1-4", user=OTHER, trigger="t3")
    bot.slack.wait_for("chat.postMessage", 3)
    assert len(bot.stack.jobs.recent(CHANNEL)) == 3


def test_the_same_words_after_a_cancel_are_a_new_job(timed: tuple[Bot, Clock]) -> None:
    bot, clock = timed
    first = _first_job(bot)
    bot.command(f"cancel {first}", trigger="t-cancel")
    bot.replies()
    clock.now += MINUTE
    bot.command("shot.blend 1-4", trigger="t-again")
    bot.slack.wait_for("chat.postMessage", 2)  # the first card and the new one
    assert len(bot.stack.jobs.recent(CHANNEL)) == 2 and len(bot.stack.queued_bodies()) == 4


def test_the_same_words_about_a_shot_put_there_again_are_a_new_job(timed: tuple[Bot, Clock]) -> None:
    bot, clock = timed
    first = _first_job(bot)
    clock.now += 2 * MINUTE
    bot.stack.put_scene(body=b"BLENDER-v500 fixed: the lamp moved")  # a new version: a new ETag

    bot.command("shot.blend 1-4", trigger="after-the-fix")

    bot.slack.wait_for("chat.postMessage", 2)
    jobs = bot.stack.jobs.recent(CHANNEL)
    assert [job.job_id for job in jobs][1:] == [first] and jobs[0].scene_etag != jobs[1].scene_etag
    assert len(bot.stack.queued_bodies()) == 4
