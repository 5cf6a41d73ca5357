"""`/render hold` and `/render resume` from Slack: the card shows who holds the job, its thread says it, and a
person who may not is told so in one sentence."""

from __future__ import annotations

from backend.render.records import JobStatus

from .conftest import ADMIN, ARTIST, CHANNEL, OTHER, Bot


def _submitted(bot: Bot) -> str:
    bot.stack.put_scene()
    bot.command("shot.blend 1-4")
    bot.slack.wait_for("chat.postMessage")
    (job,) = bot.stack.jobs.recent(CHANNEL)
    return job.job_id


def test_a_hold_shows_on_the_card_and_in_its_thread_and_resume_takes_it_on(bot: Bot) -> None:
    job_id = _submitted(bot)
    (card,) = bot.slack.calls_to("chat.postMessage")
    bot.command(f"hold {job_id}", user=OTHER)
    (refused,) = bot.replies()
    assert refused["text"] == f"Only <@{ARTIST}> (who submitted `{job_id}`) or an admin can hold it."
    bot.command(f"hold {job_id}", user=ADMIN)
    held_line = f"⏸ held by <@{ADMIN}>: no new frames start until `/render resume {job_id}`"
    assert bot.replies(2)[-1]["text"].startswith(held_line)
    thread = bot.slack.wait_for("chat.postMessage", 2)[-1].args
    assert thread["channel"] == card.args["channel"] == CHANNEL and thread["thread_ts"]
    assert thread["text"].startswith(held_line)
    (update,) = bot.slack.wait_for("chat.update")
    assert update.args["text"].startswith("⏸ Held") and held_line in str(update.args["blocks"])
    assert bot.stack.jobs.get(job_id).status is JobStatus.HELD
    bot.command(f"resume {job_id}")
    assert bot.replies(3)[-1]["text"] == f"▶️ `{job_id}` resumed: 4 frames not yet rendered queued again."
    assert bot.slack.wait_for("chat.postMessage", 3)[-1].args["text"].startswith(f"▶️ `{job_id}` resumed")
    assert bot.stack.jobs.get(job_id).status is JobStatus.QUEUED
