"""The channel's view of a render: the card updated in place, one thread reply with pictures, 429s survived."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from io import BytesIO
from pathlib import Path

import av
import pytest

from backend.commands import split_words
from backend.config import SlackCredentials
from backend.event_wire import parse_event
from backend.events import JobCompleted, JobProgress
from backend.render.grammar import parse_render
from bot.app import web_client
from bot.listeners.commands.render import post_card
from bot.notifier import SlackNotifier
from entry.wiring import Services
from testing.slack import FakeSlack

from .conftest import Stack

CHANNEL = "C0RENDERS"
EVENT = Path(__file__).resolve().parents[1] / "events" / "sns_job_completed.json"


class Clock:
    """Time that moves only when the notifier sleeps or the test says so."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def _setup(stack: Stack, slack: FakeSlack, frames: str = "1-4") -> tuple[SlackNotifier, Services, Clock, str]:
    clock = Clock()
    settings = replace(stack.settings, slack_api_url=slack.base_url)
    jobs = stack.jobs
    jobs._clock = clock  # the job record's times follow the same clock
    services = Services(settings, clock=clock)
    services.__dict__["jobs"] = jobs
    stack.put_scene()
    submission = services.submissions.submit(
        parse_render(split_words(f"shot.blend {frames}")), "U0ARTIST", CHANNEL
    )
    assert submission.job is not None
    client = web_client(settings, SlackCredentials("xoxb-test").bot_token)
    post_card(client, services, submission.job.job_id, CHANNEL)
    return SlackNotifier(client, services, sleep=clock.sleep), services, clock, submission.job.job_id


def _deliver(notifier: SlackNotifier, stack: Stack) -> None:
    for event in stack.events()[len(getattr(stack, "_delivered", [])) :]:
        notifier.handle(event)
    stack._delivered = list(stack.received)  # type: ignore[attr-defined]


def test_the_card_is_updated_in_place_and_the_job_ends_with_one_reply_with_pictures(
    stack: Stack, slack: FakeSlack
) -> None:
    notifier, _, clock, job_id = _setup(stack, slack)
    clock.now += 6  # the card was posted at t=0: the first progress after the interval updates it
    stack.render_frames(job_id, [1])
    _deliver(notifier, stack)
    (update,) = slack.calls_to("chat.update")
    assert "▰▰▱▱▱▱▱▱▱▱ 1/4" in update.args["blocks"][1]["text"]["text"]
    clock.now += 1
    stack.render_frames(job_id, [2, 3, 4])
    _deliver(notifier, stack)
    updates = slack.calls_to("chat.update")
    assert len(updates) == 2
    assert updates[-1].args["blocks"][0]["text"]["text"].startswith("*✅ Done*")
    assert "▰▰▰▰▰▰▰▰▰▰ 4/4" in updates[-1].args["blocks"][1]["text"]["text"]
    assert clock.slept and clock.slept[0] > 0  # the final update waited for the 5 s spacing, then landed
    (complete,) = slack.calls_to("files.completeUploadExternal")
    assert complete.args["thread_ts"] == "1700000000.000100" and complete.args["channel_id"] == CHANNEL
    assert "all 4 frames of `scenes/shot.blend` rendered" in complete.args["initial_comment"]
    assert "Download the frames" in complete.args["initial_comment"]
    # the link is to a zip under previews/ (the prefix the bucket's lifecycle rule expires) holding every frame
    (zipped,) = stack.s3.list_objects_v2(Bucket=stack.settings.outputs_bucket, Prefix="previews/")["Contents"]
    assert zipped["Key"] == f"previews/{job_id}/{job_id}_frames.zip"
    archive = stack.s3.get_object(Bucket=stack.settings.outputs_bucket, Key=zipped["Key"])["Body"].read()
    with zipfile.ZipFile(BytesIO(archive)) as bundle:
        assert len(bundle.namelist()) == 4
    uploads = slack.calls_to("upload")
    assert uploads[0].body.startswith(b"\x89PNG") and uploads[1].body[4:8] == b"ftyp"  # the sheet and an MP4
    assert [name["title"] for name in complete.args["files"]] == [
        f"Contact sheet · {job_id}",
        f"Dailies · {job_id}",
    ]
    with av.open(BytesIO(uploads[1].body)) as movie:
        stream = movie.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.average_rate == 24
        assert sum(1 for _ in movie.decode(stream)) == 4  # every frame, not a sample
    # SNS delivers again: nothing more is said
    notifier.handle(
        JobCompleted(job_id=job_id, status="done", scene_key="scenes/shot.blend", done=4, failed=0, total=4)
    )
    assert (
        len(slack.calls_to("files.completeUploadExternal")) == 1 and len(slack.calls_to("chat.update")) == 2
    )


def test_failed_frames_and_why_are_in_the_reply(stack: Stack, slack: FakeSlack) -> None:
    notifier, _, _, job_id = _setup(stack, slack, "1-3")
    stack.jobs.note_device(job_id, "CPU", "", "25")  # the renderer read the scene's frame rate
    stack.render_frames(job_id, [1], failed=[2, 3])
    _deliver(notifier, stack)
    (complete,) = slack.calls_to("files.completeUploadExternal")
    comment = complete.args["initial_comment"]
    assert "1 of 3 frames" in comment and "2 failed: `2-3`" in comment
    assert "frame 2: RuntimeError: texture wood.png is missing" in comment
    final = slack.calls_to("chat.update")[-1].args["blocks"]
    assert [button["text"]["text"] for button in final[-1]["elements"]] == ["Retry failed", "Outputs"]
    # the movie keeps the cut's length: the failed frames are slates where they would be
    with av.open(BytesIO(slack.calls_to("upload")[1].body)) as movie:
        assert movie.streams.video[0].average_rate == 25  # the scene's
        pictures = [frame.to_image() for frame in movie.decode(video=0)]
    assert len(pictures) == 3
    rendered, slate = pictures[0].getpixel((320, 100)), pictures[1].getpixel((320, 20))
    assert abs(rendered[2] - 160) < 20 and slate[0] > slate[2] + 20  # the frame's blue; the slate's red


def test_a_rate_limited_final_update_is_retried_not_dropped(stack: Stack, slack: FakeSlack) -> None:
    notifier, _, _, job_id = _setup(stack, slack, "1")
    slack.rate_limit("chat.update", times=1, retry_after=0)
    stack.render_frames(job_id, [1])
    _deliver(notifier, stack)
    updates = slack.calls_to("chat.update")
    assert len(updates) == 2 and updates[0].args.get("_ratelimited")
    assert updates[1].args["blocks"][0]["text"]["text"].startswith("*✅ Done*")


def test_progress_inside_the_interval_does_not_touch_the_card(stack: Stack, slack: FakeSlack) -> None:
    notifier, _, clock, job_id = _setup(stack, slack, "1-10")
    event = JobProgress(job_id=job_id, scene_key="scenes/shot.blend", done=1, failed=0, total=10)
    for _ in range(8):  # t = 0 … 7 s
        notifier.handle(event)
        clock.now += 1
    assert len(slack.calls_to("chat.update")) == 1  # the card was posted at t=0; the one update is at t=5


def test_the_sns_lambda_handler_delivers_the_event(
    stack: Stack, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    import entry.notifier as notify_lambda
    from entry import wiring

    notifier, _, _, job_id = _setup(stack, slack, "1")
    stack.render_frames(job_id, [1])
    (completed,) = [event for event in stack.events() if isinstance(event, JobCompleted)]
    monkeypatch.setattr(wiring, "slack_notifier", lambda: notifier)
    event = json.loads(EVENT.read_text())
    event["Records"][0]["Sns"]["Message"] = completed.to_json()
    assert parse_event(event["Records"][0]["Sns"]["Message"]) == completed
    notify_lambda.handler(event, None)
    slack.wait_for("files.completeUploadExternal")


def test_a_lapsing_session_is_told_to_its_owner_and_the_ops_channel_with_buttons(
    stack: Stack, slack: FakeSlack
) -> None:
    from backend.events import SessionExpiring, SessionStopped

    clock = Clock()
    settings = replace(stack.settings, slack_api_url=slack.base_url, ops_channel="C0OPS")
    notifier = SlackNotifier(
        web_client(settings, "xoxb-test"), Services(settings, clock=clock), sleep=clock.sleep
    )
    notifier.handle(SessionExpiring(name="anim-01", owner="U0ANNA", expires_at=clock.now + 25 * 60))
    dm, ops = slack.calls_to("chat.postMessage")
    assert (dm.args["channel"], ops.args["channel"]) == ("U0ANNA", "C0OPS")
    assert dm.args["text"] == "⏰ <@U0ANNA> `anim-01`'s session ends in 25 min: it will be stopped."
    assert [b["text"]["text"] for b in dm.args["blocks"][1]["elements"]] == ["Extend 2 h", "Stop now"]
    notifier.handle(SessionStopped(name="anim-01", owner="U0ANNA", reason="its session expired"))
    assert (
        slack.calls_to("chat.postMessage")[-1].args["text"]
        == "⏹️ Stopped `anim-01` (<@U0ANNA>): its session expired."
    )


def test_a_large_archive_is_streamed_s3_to_s3_in_parts(stack: Stack) -> None:
    import os

    # GIVEN frames bigger than one 8 MiB part, in S3
    frames = {f"outputs/rbig/shot_{frame:04d}.exr": os.urandom(6 << 20) for frame in (1, 2, 3)}
    for key, body in frames.items():
        stack.s3.put_object(Bucket=stack.settings.outputs_bucket, Key=key, Body=body)
    # WHEN they are zipped through the store's multipart writer, a chunk at a time
    store, bucket = stack.store, stack.settings.outputs_bucket
    with (
        store.writer(bucket, "previews/rbig/rbig_frames.zip", "application/zip") as sink,
        zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as bundle,
    ):
        for key in frames:
            with bundle.open(key.rsplit("/", 1)[-1], "w", force_zip64=True) as entry:
                for chunk in store.stream(bucket, key, chunk_bytes=1 << 20):
                    entry.write(chunk)
    assert len(sink._parts) == 3  # 18 MiB in 8 MiB parts: a multipart upload, not one PUT
    # THEN the archive holds every frame, byte for byte
    archive = stack.s3.get_object(Bucket=bucket, Key="previews/rbig/rbig_frames.zip")["Body"].read()
    with zipfile.ZipFile(BytesIO(archive)) as unzipped:
        assert {name: unzipped.read(name) for name in unzipped.namelist()} == {
            key.rsplit("/", 1)[-1]: body for key, body in frames.items()
        }


def test_a_reply_that_fails_apologises_once_and_its_retry_builds_nothing_twice(
    stack: Stack, slack: FakeSlack
) -> None:
    notifier, _, _, job_id = _setup(stack, slack)
    stack.render_frames(job_id, [1, 2, 3, 4])
    slack.fail("files.getUploadURLExternal", "service_unavailable", times=2)
    (completed,) = [event for event in stack.events() if isinstance(event, JobCompleted)]
    for _ in range(2):  # the first delivery and Lambda's first retry fail
        with pytest.raises(Exception, match="service_unavailable"):
            notifier.handle(completed)
    zipped = stack.s3.head_object(
        Bucket=stack.settings.outputs_bucket, Key=f"previews/{job_id}/{job_id}_frames.zip"
    )
    notifier.handle(completed)  # the second retry gets through
    (apology,) = [
        call for call in slack.calls_to("chat.postMessage") if "did not come through" in call.args["text"]
    ]
    assert apology.args["thread_ts"] == "1700000000.000100"
    (complete,) = slack.calls_to("files.completeUploadExternal")
    assert "Download the frames" in complete.args["initial_comment"]
    again = stack.s3.head_object(
        Bucket=stack.settings.outputs_bucket, Key=f"previews/{job_id}/{job_id}_frames.zip"
    )
    assert again["ETag"] == zipped["ETag"] and again["LastModified"] == zipped["LastModified"]  # built once


def test_past_the_zip_limit_the_reply_links_an_index_of_every_frame_and_a_sync_command(
    stack: Stack, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.archive

    monkeypatch.setattr(bot.archive, "MAX_ZIP_BYTES", 100)  # as a 2,000-frame EXR job is past 2 GB
    notifier, _, _, job_id = _setup(stack, slack)
    stack.render_frames(job_id, [1, 2, 3, 4])
    _deliver(notifier, stack)
    (complete,) = slack.calls_to("files.completeUploadExternal")
    comment = complete.args["initial_comment"]
    bucket = stack.settings.outputs_bucket
    assert "too big to zip" in comment
    assert f'`aws s3 sync s3://{bucket}/outputs/{job_id}/ ./{job_id}/ --exclude "proxies/*"`' in comment
    page = stack.s3.get_object(Bucket=bucket, Key=f"previews/{job_id}/{job_id}_frames.html")["Body"].read()
    assert page.count(b"<li><a href=") == 4 and b"shot_0004.png</a>" in page and b"proxies" not in page
    listed = stack.s3.list_objects_v2(Bucket=bucket, Prefix="previews/")["Contents"]
    assert [item["Key"] for item in listed] == [f"previews/{job_id}/{job_id}_frames.html"]  # no zip


def test_a_stopped_frame_is_told_under_the_card_at_once_and_once(stack: Stack, slack: FakeSlack) -> None:
    from backend.events import FrameStopped

    notifier, _, _, job_id = _setup(stack, slack)
    stopped = FrameStopped(
        job_id=job_id, frame=12, ran_s=870.0, limit_s=900.0, margin_s=30.0, channel=CHANNEL
    )
    notifier.handle(stopped)
    notifier.handle(stopped)  # SNS delivers it again
    (said,) = [call for call in slack.calls_to("chat.postMessage") if call.args.get("thread_ts")]
    assert said.args["thread_ts"] == "1700000000.000100"
    text = said.args["text"]
    assert text.startswith(
        f"⏱️ Render `{job_id}`: frame 12 was stopped after 14 min 30 s of the 15 min 00 s a render may run (30 s "
        "are kept to record it and tell you)"
    )
    # the way out is one that succeeds: the retry re-plans it as tiles, never renders it whole again
    assert f"`/render retry {job_id}` renders it as tiles planned from a small look" in text
    assert "will not be tried again" not in text


def test_a_reclaimed_node_is_told_under_the_card_once(stack: Stack, slack: FakeSlack) -> None:
    from backend.events import NodeReclaimed

    notifier, _, _, job_id = _setup(stack, slack)
    reclaimed = NodeReclaimed(
        node="ip-10-0-1-7.ec2.internal", render_class="gpu", reason="Spot", job_id=job_id, frames=[42]
    )  # a host name: dots and dashes, never in the claim's attribute name
    notifier.handle(reclaimed)
    notifier.handle(reclaimed)  # SNS delivers it again
    (said,) = [call for call in slack.calls_to("chat.postMessage") if call.args.get("thread_ts")]
    assert said.args["text"] == (
        f"⚡ GPU node `ip-10-0-1-7.ec2.internal` reclaimed by Spot: frame 42 of `{job_id}` handed back; "
        "another node takes it now."
    )
