"""Retrying a job's failed frames works at any count and pattern: the frames come from the store, not the grammar."""

from __future__ import annotations

import json
import random

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
