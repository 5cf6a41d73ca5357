"""`/render movie JOB` from Slack: checked at once, handed to the notifier as an event, made there and posted in
the job's thread, once however often SNS delivers it; mistakes are one sentence."""

from __future__ import annotations

import json
from io import BytesIO

import av

from backend.events import MovieRequested
from bot.app import web_client
from bot.notifier import SlackNotifier

from .conftest import CHANNEL, OTHER, Bot


def _rendered(bot: Bot) -> tuple[str, str]:
    bot.stack.put_scene()
    bot.command("shot.blend 1-4")
    (card,) = bot.slack.wait_for("chat.postMessage")
    (job,) = bot.stack.jobs.recent(CHANNEL)
    bot.stack.render_frames(job.job_id, [1, 2, 4], failed=[3])
    return job.job_id, card.args["channel"]


def _notified(bot: Bot) -> list[MovieRequested]:
    """The notifier handles every movie asked for so far (each delivered again: SNS may)."""
    notifier = SlackNotifier(
        web_client(bot.services.settings, "xoxb-test"), bot.services, sleep=lambda _: None
    )
    asked = [event for event in bot.stack.events() if isinstance(event, MovieRequested)]
    for event in asked * 2:
        notifier.handle(event)
    return asked


def test_render_movie_posts_the_jobs_movie_in_its_thread_at_the_rate_asked(bot: Bot) -> None:
    job_id, _ = _rendered(bot)
    acked = bot.command(f"movie {job_id} --fps 12")
    assert (
        json.loads(acked.body)["text"] == f"⏳ Making the movie of `{job_id}`…"
    )  # at once: it takes a while
    (answer,) = bot.replies()
    assert answer["text"] == f"🎬 The movie of `{job_id}` is being made: it comes in the job's thread."
    (asked,) = _notified(bot)
    assert (asked.job_id, asked.fps, asked.frames, asked.channel) == (job_id, "12", "1-4", CHANNEL)
    (complete,) = bot.slack.calls_to(
        "files.completeUploadExternal"
    )  # one movie: the second delivery made none
    assert complete.args["channel_id"] == CHANNEL and complete.args["thread_ts"]
    comment = complete.args["initial_comment"]
    assert f"The dailies of `{job_id}`: 4 frames (1-4) at 12 fps, 1 failed as slates" in comment
    assert [file["title"] for file in complete.args["files"]] == [f"Dailies · {job_id}"]
    (upload,) = bot.slack.calls_to("upload")
    with av.open(BytesIO(upload.body)) as movie:
        stream = movie.streams.video[0]
        assert stream.average_rate == 12 and (stream.width, stream.height) == (640, 360)
        assert sum(1 for _ in movie.decode(stream)) == 4


def test_a_range_of_the_job_makes_a_shorter_movie(bot: Bot) -> None:
    job_id, _ = _rendered(bot)
    bot.command(f"movie {job_id} --frames 2-3")
    bot.replies()
    _notified(bot)
    (upload,) = bot.slack.calls_to("upload")
    with av.open(BytesIO(upload.body)) as movie:
        assert sum(1 for _ in movie.decode(video=0)) == 2


def test_mistakes_about_the_job_or_its_frames_are_one_sentence(bot: Bot) -> None:
    job_id, _ = _rendered(bot)
    bot.command(f"movie {job_id} --frames 3-9")
    assert bot.replies()[0]["text"] == (
        f"`{job_id}` did not render 5-9: its frames are `1-4`, e.g. `/render movie {job_id} --frames 1-4`."
    )
    bot.command("movie r0000000000")
    assert "r0000000000" in bot.replies(2)[-1]["text"] and "Traceback" not in bot.replies(2)[-1]["text"]
    bot.command(f"movie {job_id}", user=OTHER, channel="C0ELSEWHERE")
    assert (
        bot.replies(3)[-1]["text"]
        == f"`{job_id}` belongs to <#{CHANNEL}>: ask about it there (or ask an admin)."
    )
    assert _notified(bot) == [] and bot.slack.calls_to("upload") == []


def test_after_a_retry_the_movie_shows_the_frames_the_retry_rendered_not_their_slates(bot: Bot) -> None:
    job_id, _ = _rendered(bot)
    bot.command(f"retry {job_id}")
    bot.slack.wait_for("chat.postMessage", 2)  # the retry's card
    (retry,) = [job for job in bot.stack.jobs.recent(CHANNEL) if job.retry_of == job_id]
    bot.stack.render_frames(retry.job_id, [3])
    bot.command(f"movie {job_id}")
    bot.replies()
    _notified(bot)
    (upload,) = bot.slack.calls_to("upload")
    with av.open(BytesIO(upload.body)) as movie:
        pictures = [frame.to_image().convert("RGB") for frame in movie.decode(video=0)]
    assert len(pictures) == 4
    third = pictures[2].getpixel((320, 100))
    assert abs(third[0] - 120) < 20 and abs(third[2] - 160) < 20  # frame 3's own picture (the retry's proxy)
