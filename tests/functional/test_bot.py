"""`/render` in Slack as users see it: signed requests in, the real WebClient out to a fake Slack, moto as AWS."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import pytest

from backend.config import Access, SlackCredentials
from backend.render.records import JobStatus
from bot.app import build_app
from bot.cards import card_store
from testing.slack import dispatch_signed, slash_command_body

from .conftest import ADMIN, ARTIST, CHANNEL, OTHER, SECRET, Bot


def _text(response: Any) -> str:
    import json

    return str(json.loads(response.body).get("text", "")) if response.body else ""


def test_help_is_answered_in_the_ack(bot: Bot) -> None:
    response = bot.command("help")
    assert response.status == 200
    assert "/render SCENE FRAMES" in _text(response)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("shot.blend", "Say which frames of `shot.blend`"),
        ("shot.blend 1-240x0", "step of 0"),
        ("shot.blend 1-10 --engine octane", "`--engine octane` is not one of"),
        ("cancel", "Say which job to cancel"),
    ],
)
def test_grammar_mistakes_are_answered_in_the_ack_and_nothing_is_queued(
    bot: Bot, text: str, said: str
) -> None:
    response = bot.command(text)
    assert response.status == 200 and said in _text(response)
    assert "Traceback" not in _text(response)
    time.sleep(0.2)
    assert bot.stack.queued_bodies() == [] and bot.slack.calls_to("chat.postMessage") == []


def test_a_render_posts_a_job_card_in_the_channel(bot: Bot) -> None:
    bot.stack.put_scene("shot010/shot.blend")
    response = bot.command("shot010/shot.blend 1-24 --res 64x36")
    assert response.status == 200 and "Checking" in _text(response)
    (card,) = bot.slack.wait_for("chat.postMessage")
    assert card.args["channel"] == CHANNEL
    blocks = card.args["blocks"]
    assert "`scenes/shot010/shot.blend` · frames `1-24` · by <@U0ARTIST>" in blocks[0]["text"]["text"]
    assert "▱▱▱▱▱▱▱▱▱▱ 0/24" in blocks[1]["text"]["text"]
    assert [button["text"]["text"] for button in blocks[-1]["elements"]] == ["Cancel"]
    deadline = time.monotonic() + 5  # the card's ts is stored just after Slack answers the post
    cards, job = card_store(bot.services), bot.stack.jobs.recent(CHANNEL)[0]
    while cards.card(job.job_id) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    card = cards.card(job.job_id)
    assert card is not None and (card.channel, card.ts) == (CHANNEL, "1700000000.000100")
    assert len(bot.stack.queued_bodies()) == 24


def test_a_missing_scene_is_answered_politely_and_nothing_is_queued(bot: Bot) -> None:
    bot.command("nowhere.blend 1-10")
    (reply,) = bot.replies()
    assert reply["response_type"] == "ephemeral"
    assert "There is no scene `scenes/nowhere.blend` in the bucket" in reply["text"]
    assert bot.stack.queued_bodies() == []


def test_the_same_command_sent_twice_makes_one_job(bot: Bot) -> None:
    bot.stack.put_scene()
    bot.command("shot.blend 1-4", trigger="first")
    bot.slack.wait_for("chat.postMessage")
    bot.command("shot.blend  1-4", trigger="again")  # re-sent (double Enter, a Slack retry)
    (reply,) = bot.replies()
    assert "You sent this render a moment ago" in reply["text"]
    assert len(bot.slack.calls_to("chat.postMessage")) == 1
    assert len(bot.stack.jobs.recent(CHANNEL)) == 1


def test_dry_run_answers_with_the_plan(bot: Bot) -> None:
    bot.stack.put_scene()
    bot.command("shot.blend 1-10x2 --dry-run")
    (reply,) = bot.replies()
    assert "Dry run" in reply["text"] and "Frames 1-10x2 (5 frames) in 5 tasks" in reply["text"]
    assert bot.stack.queued_bodies() == []


def _submitted(bot: Bot, text: str = "shot.blend 1-4") -> str:
    bot.stack.put_scene()
    bot.command(text)
    bot.slack.wait_for("chat.postMessage")
    (job,) = bot.stack.jobs.recent(CHANNEL)
    return job.job_id


def test_only_the_submitter_or_an_admin_may_cancel(bot: Bot) -> None:
    job_id = _submitted(bot)
    bot.command(f"cancel {job_id}", user=OTHER)
    (refused,) = bot.replies()
    assert refused["text"] == f"Only <@{ARTIST}> (who submitted `{job_id}`) or an admin can cancel it."
    assert refused["response_type"] == "ephemeral" and "blocks" not in refused  # a refusal, not a ⚠️ mistake
    assert bot.stack.jobs.get(job_id).status is JobStatus.QUEUED
    bot.click("job_cancel", job_id, user=ADMIN)
    cancelled = bot.replies(2)[-1]
    assert f"Cancelled `{job_id}`" in cancelled["text"]
    assert bot.stack.jobs.get(job_id).status is JobStatus.CANCELLED


def test_a_double_clicked_cancel_says_it_is_already_cancelled(bot: Bot) -> None:
    job_id = _submitted(bot)
    bot.click("job_cancel", job_id)
    bot.replies(1)
    bot.click("job_cancel", job_id)
    second = bot.replies(2)[-1]
    assert f"Job `{job_id}` is already cancelled: nothing to cancel." in second["text"]


def test_status_and_list_show_the_channels_jobs(bot: Bot) -> None:
    job_id = _submitted(bot)
    bot.command(f"status {job_id}")
    (status,) = bot.replies()
    assert job_id in status["text"] and "0/4" in status["text"]
    bot.command("list", user=OTHER)
    listing = bot.replies(2)[-1]
    assert f"`{job_id}`" in listing["text"] and "<@U0ARTIST>" in listing["text"]
    bot.command("status r-unknown")
    assert "There is no render job `r-unknown`" in bot.replies(3)[-1]["text"]


def test_retry_renders_the_failed_frames_as_a_new_job_once(bot: Bot) -> None:
    job_id = _submitted(bot, "shot.blend 1-3")
    reporter = bot.stack.reporter
    reporter.frame_done(job_id, 1, 0.1, "k1")
    reporter.frame_failed(job_id, 2, "RuntimeError: no camera")
    reporter.frame_failed(job_id, 3, "RuntimeError: no camera")
    bot.stack.queued_bodies()
    bot.click("job_retry", job_id)
    cards = bot.slack.wait_for("chat.postMessage", 2)
    assert "retry of `" + job_id + "`" in cards[1].args["blocks"][0]["text"]["text"]
    bot.click("job_retry", job_id)  # double click
    assert "is already being retried as" in bot.replies()[-1]["text"]
    retry = [job for job in bot.stack.jobs.recent(CHANNEL) if job.retry_of == job_id]
    assert len(retry) == 1 and retry[0].frames_spec == "2-3" and retry[0].total == 2
    assert len(bot.stack.queued_bodies()) == 2


def test_people_and_channels_outside_the_lists_are_refused(bot: Bot) -> None:
    settings = replace(bot.services.settings, access=Access(allowed_channels=frozenset({"C0OK"})))
    app = build_app(
        settings, SlackCredentials("xoxb-test", SECRET), client=bot.app.client, services=bot.services
    )
    body = slash_command_body("help", channel_id="C0ELSEWHERE", response_url=bot.slack.response_url())
    response = dispatch_signed(app, body, SECRET)
    assert "studiobot does not take commands in this channel: use <#C0OK>." in _text(response)


def test_a_bad_signature_or_an_old_timestamp_is_401(bot: Bot) -> None:
    body = slash_command_body("help")
    assert dispatch_signed(bot.app, body, "wrong-secret").status == 401
    assert dispatch_signed(bot.app, body, SECRET, timestamp=int(time.time()) - 301).status == 401


def test_an_unexpected_failure_reaches_slack_as_an_apology_not_a_traceback(bot: Bot) -> None:
    bot.stack.put_scene()
    bot.services.__dict__["submissions"] = None  # a broken dependency: `None.submit` raises AttributeError
    bot.command("shot.blend 1-4")
    (reply,) = bot.replies()
    assert (
        reply["text"].startswith("Something went wrong on our side")
        and "nothing was changed" not in reply["text"]
    )
    assert "Traceback" not in reply["text"] and "AttributeError" not in reply["text"]


def test_the_ack_path_loads_no_aws_sdk_no_frame_library_and_no_blender() -> None:
    import json
    import subprocess
    import sys

    probe = "import sys, bot.app; print(__import__('json').dumps(sorted(m for m in ('boto3', 'botocore.client', 'fileseq', 'bpy') if m in sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert json.loads(loaded) == []


def test_a_slack_retry_of_the_same_request_makes_no_second_job(bot: Bot) -> None:
    from slack_bolt.request import BoltRequest

    from testing.slack import signed_headers

    bot.stack.put_scene()
    body = slash_command_body("shot.blend 1-4", response_url=bot.slack.response_url(), trigger_id="t-retry")
    assert dispatch_signed(bot.app, body, SECRET).status == 200
    bot.slack.wait_for("chat.postMessage")
    (job,) = bot.stack.jobs.recent(CHANNEL)
    deadline = (
        time.monotonic() + 5
    )  # the card's ts is kept just after Slack answers (its retry comes 3 s later)
    while card_store(bot.services).card(job.job_id) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    retry_headers: dict[str, Any] = {
        **signed_headers(body, SECRET),
        "X-Slack-Retry-Num": "1",
        "X-Slack-Retry-Reason": "http_timeout",
    }
    assert bot.app.dispatch(BoltRequest(body=body, headers=retry_headers)).status == 200
    (reply,) = bot.replies()
    assert "Nothing new was queued" in reply["text"]
    assert len(bot.slack.calls_to("chat.postMessage")) == 1 and len(bot.stack.jobs.recent(CHANNEL)) == 1


def test_when_the_card_cannot_be_posted_the_answer_says_the_job_exists_and_a_resend_posts_it(
    bot: Bot,
) -> None:
    bot.stack.put_scene()
    bot.slack.fail("chat.postMessage", "service_unavailable")
    bot.command("shot.blend 1-4", trigger="t-first")
    (reply,) = bot.replies()
    (job,) = bot.stack.jobs.recent(CHANNEL)
    assert reply["text"].startswith(f"Job `{job.job_id}` was created and its frames are queued, but its card")
    assert "nothing was changed" not in reply["text"] and len(bot.stack.queued_bodies()) == 4
    bot.command("shot.blend 1-4", trigger="t-again")  # the artist sends it again: the card, not a second job
    (card,) = [call for call in bot.slack.wait_for("chat.postMessage", 2) if call.args.get("blocks")][-1:]
    assert job.job_id in card.args["text"] and [j.job_id for j in bot.stack.jobs.recent(CHANNEL)] == [
        job.job_id
    ]
    deadline = time.monotonic() + 5  # the card's ts is kept just after Slack answers the post
    while card_store(bot.services).card(job.job_id) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert card_store(bot.services).card(job.job_id) is not None and bot.stack.queued_bodies() == []
