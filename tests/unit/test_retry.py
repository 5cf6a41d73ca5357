"""Retrying a job's failed frames works at any count and pattern: the frames come from the store, not the grammar."""

from __future__ import annotations

import json
import random

import pytest

from backend.errors import ValidationError
from backend.render.records import JobStatus
from tests.unit.test_fanout import ARTIST, FAST_FRAME_S, Farm


def test_a_retry_of_5000_scattered_failed_frames_renders_exactly_those_frames() -> None:
    farm = Farm()
    job = farm.submit("shot.blend 1-10000 --chunk 10")
    farm.render_probes(job, FAST_FRAME_S)
    failed = set(random.Random(5).sample(range(1, 10_001), 5_000)) - set(job.probe_frames)
    reporter = farm.services.reporter
    for frame in range(1, 10_001):
        if frame in job.probe_frames:
            continue
        if frame in failed:
            reporter.frame_failed(job.job_id, frame, "Blender crashed", FAST_FRAME_S)
        else:
            reporter.frame_done(job.job_id, frame, FAST_FRAME_S, f"out/{frame}.png", FAST_FRAME_S)
    assert farm.jobs.get(job.job_id).status is JobStatus.DONE_WITH_FAILURES
    farm.queue.batches.clear()

    _, retry = farm.services.desk.retry(ARTIST, job.job_id, asked_in="C1")
    again = farm.services.desk.retry(ARTIST, job.job_id, asked_in="C1")[1]  # asked twice: the same retry job
    assert retry.job is not None and again.job is not None and again.job.job_id == retry.job.job_id
    assert len(retry.job.frames_spec) > 1_000  # longer than anyone may type, and still accepted
    farm.render_probes(retry.job, FAST_FRAME_S)  # 5,000 frames: probed and estimated like any big job
    queued = [frame for body in farm.queue.bodies for frame in json.loads(body)["frames"]]
    assert sorted(queued) == sorted(failed) and len(queued) == len(failed)  # each failed frame once, no other
    for frame in queued:
        if frame not in retry.job.probe_frames:
            reporter.frame_done(retry.job.job_id, frame, FAST_FRAME_S, f"out/{frame}.png", FAST_FRAME_S)
    done = farm.jobs.get(retry.job.job_id)
    assert (done.status, done.done, done.failed, done.retry_of) == (
        JobStatus.DONE,
        len(failed),
        0,
        job.job_id,
    )


def test_retry_takes_the_options_that_make_a_frame_lighter_and_refuses_others() -> None:
    from backend.render.grammar import parse_retry

    request = parse_retry(["r1a2b3c4d5", "--tiles", "auto", "--samples", "16", "--res", "640x360"])
    assert (request.job_id, request.tiles_auto, request.samples, request.resolution) == (
        "r1a2b3c4d5",
        True,
        16,
        (640, 360),
    )
    assert parse_retry(["r1a2b3c4d5", "--tiles=4x4"]).tiles == (4, 4)
    for words, said in (
        ([], "Say which job to retry"),
        (["r1", "r2"], "Say which job to retry"),
        (["r1", "--engine", "CYCLES"], "`--engine` is not an option of `retry`"),
    ):
        with pytest.raises(ValidationError, match=said):
            parse_retry(words)


def test_slack_and_the_terminal_accept_retry_with_tiles() -> None:
    from backend.config import Settings
    from bot.listeners.commands.render import immediate_answer

    command = {"user_id": "U1", "channel_id": "C1", "text": "retry r1a2b3c4d5 --tiles auto"}
    assert immediate_answer(command, Settings()) is None  # work to do: not refused at the ack


def test_a_retry_of_a_stopped_frame_says_on_its_card_that_it_renders_as_tiles() -> None:
    from backend.render.tasks import RenderSettings
    from bot.messages.render_plan import settings_text

    said = settings_text(RenderSettings(tiles_auto=True, at_least_s=870.0))
    assert "as tiles planned from a small look (a frame was stopped after 14 min 30 s)" in said


def test_a_stopped_tiles_frame_is_planned_again_and_a_lighter_retry_is_measured_afresh() -> None:
    from backend.render.grammar import RetryRequest
    from backend.render.records import FrameOutcome, FrameRecord
    from backend.render.retrying import retry_settings
    from backend.render.tasks import RenderSettings

    stopped = [FrameRecord(1, FrameOutcome.FAILED, stopped_s=16.0), FrameRecord(2, FrameOutcome.FAILED)]
    again = retry_settings(RenderSettings(tiles=(2, 2), samples=64), stopped)
    assert (again.tiles, again.tiles_auto, again.at_least_s) == (None, True, 16.0)
    lighter = retry_settings(RenderSettings(samples=64), stopped, RetryRequest("r1", samples=16))
    assert (lighter.samples, lighter.tiles_auto, lighter.at_least_s) == (16, True, 0.0)
    crashed = retry_settings(RenderSettings(samples=64), [FrameRecord(2, FrameOutcome.FAILED)])
    assert crashed == RenderSettings(samples=64)  # nothing was stopped: rendered as it was
