"""Fan-out, probes, Submit and expiry against the in-memory job store: the rules, fast, without moto."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from backend.aws.s3 import ObjectInfo
from backend.budgets.guard import GuardState
from backend.commands import split_words
from backend.config import Access, Costs, Settings
from backend.errors import ConflictError, NotFoundError, PermissionDenied
from backend.events import JobApproved, JobCompleted, JobEstimated
from backend.people import mention
from backend.render.dead_letters import fail_task
from backend.render.desk import AlreadySent
from backend.render.grammar import parse_render
from backend.render.records import Job, JobStatus
from backend.render.submit import Submission
from backend.render.tasks import RenderTask
from entry.wiring import Services
from testing.jobs import InMemoryJobs, RecordingEvents, RecordingQueue
from testing.roster import InMemoryRoster

ARTIST, OTHER, ADMIN = "U0ARTIST", "U0OTHER", "U0ADMIN"
# 10 GB for 600 billed seconds is $0.10 a frame: 100 frames ≈ $10 (over the $5 confirm), 1,000 ≈ $100 (admins).
SLOW_FRAME_S, FAST_FRAME_S = 600.0, 1.0


class Scenes:
    """The scenes bucket: every `.blend` asked for is there."""

    def head(self, bucket: str, key: str) -> ObjectInfo:
        return ObjectInfo(key=key, etag="etag-1", size=1024)

    def list_prefix(self, bucket: str, prefix: str) -> list[ObjectInfo]:
        return []

    def read(self, bucket: str, key: str) -> tuple[bytes, str]:
        raise NotFoundError(f"There is no `{key}`.")  # shots shipped without a manifest

    def download(self, bucket: str, key: str, path: Path, etag: str | None = None) -> None:
        path.write_bytes(b"not a .blend: the worker checks it")  # tracing gives up, as for a damaged file

    def put(self, bucket: str, key: str, body: bytes, content_type: str = "application/json") -> str:
        raise AssertionError("nothing traced, nothing written")


class Guard:
    def __init__(self, on: bool = False) -> None:
        self.on = on

    def state(self) -> GuardState:
        return GuardState(on=self.on, by="AWS Budgets", reason="over budget")


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Farm:
    """The composition root with in-memory parts: what the render services do, step by step."""

    def __init__(self, guard_on: bool = False) -> None:
        self.clock = Clock()
        self.jobs = InMemoryJobs(self.clock)
        self.queue = RecordingQueue()
        self.events = RecordingEvents()
        settings = Settings(
            scenes_bucket="scenes",
            outputs_bucket="outputs",
            table_name="jobs",
            costs=Costs(probe_over_frames=50, confirm_over_usd=5.0, admin_over_usd=50.0),
            access=Access(admins=frozenset({ADMIN})),
        )
        self.services = Services(
            settings,
            clock=self.clock,
            jobs=self.jobs,
            queue=self.queue,
            events=self.events,
            guard=Guard(guard_on),
            store=Scenes(),
            roster=InMemoryRoster(self.clock),
        )

    def submit(self, text: str, by: str = ARTIST, token: str = "t1") -> Job:
        request = parse_render(split_words(text))
        submission = self.services.submissions.submit(
            request, requested_by=by, channel="C1", client_token=token
        )
        assert submission.job is not None
        return submission.job

    def queued_frames(self) -> list[list[int]]:
        return [json.loads(body)["frames"] for body in self.queue.bodies]

    def render_probes(self, job: Job, billed_s: float, fail: int | None = None) -> Job:
        for frame in job.probe_frames:
            if frame == fail:
                self.services.reporter.frame_failed(job.job_id, frame, "missing texture wood.png", billed_s)
            else:
                self.services.reporter.frame_done(job.job_id, frame, billed_s, f"out/{frame}.png", billed_s)
        return self.jobs.get(job.job_id)


def test_a_small_job_queues_every_frame_once_and_a_resubmission_queues_nothing() -> None:
    farm = Farm()
    job = farm.submit("shot.blend 1-12")
    assert job.status is JobStatus.QUEUED and job.enqueued
    assert farm.queued_frames() == [[frame] for frame in range(1, 13)]
    again = farm.submit("shot.blend 1-12")  # the same client token: Slack's retry, a double click
    assert again.job_id == job.job_id and len(farm.queue.bodies) == 12


def test_every_task_is_sent_with_its_job_as_group_so_sqs_shares_the_farm_fairly() -> None:
    farm = Farm()
    small = farm.submit("shot.blend 1-12", token="t1")
    big = farm.render_probes(farm.submit("shot.blend 1-100", token="t2"), FAST_FRAME_S)
    assert farm.queue.groups == [small.job_id, big.job_id, big.job_id]  # the small job; the probes, the rest
    (chunk,) = [RenderTask.from_json(body) for body in farm.queue.batches[0][:1]]
    fail_task(farm.services.reporter, dataclasses.replace(chunk, frames=(1, 2, 3)), farm.queue)
    assert farm.queue.groups[-1] == small.job_id  # never-tried frames queued again, in their job's group


def test_a_big_job_renders_its_first_middle_and_last_frames_before_anything_else() -> None:
    farm = Farm()
    job = farm.submit("shot.blend 1-100")
    assert job.status is JobStatus.PROBING and job.probe_frames == (1, 51, 100)
    assert farm.queued_frames() == [[1], [51], [100]]
    assert not farm.events.events


def test_cheap_probes_estimate_the_job_and_queue_the_rest_once() -> None:
    farm = Farm()
    job = farm.render_probes(farm.submit("shot.blend 1-100"), FAST_FRAME_S)
    assert job.status is JobStatus.RUNNING and job.estimate is not None
    assert len(farm.queue.bodies) == 100  # 3 probes + the 97 others, none twice
    (estimated,) = farm.events.of(JobEstimated)
    assert estimated.approval == "" and estimated.estimated_cost_usd < 5
    # a redelivered probe counts nothing and announces nothing again
    farm.services.reporter.frame_done(job.job_id, 100, FAST_FRAME_S, "out/100.png", FAST_FRAME_S)
    assert len(farm.queue.bodies) == 100 and len(farm.events.of(JobEstimated)) == 1


def test_an_estimate_over_the_confirm_line_waits_for_its_submitter_not_anyone_else() -> None:
    farm = Farm()
    job = farm.render_probes(farm.submit("shot.blend 1-100"), SLOW_FRAME_S)
    assert job.status is JobStatus.AWAITING_APPROVAL and job.approval == "submitter"
    assert len(farm.queue.bodies) == 3  # nothing more is spent before Submit
    with pytest.raises(
        PermissionDenied, match=rf"Only {re.escape(mention(ARTIST))} \(who asked for `{job.job_id}`\)"
    ):
        farm.services.desk.submit(OTHER, job.job_id)
    submitted = farm.services.desk.submit(ARTIST, job.job_id)
    assert submitted.status is JobStatus.RUNNING and submitted.approved_by == ARTIST
    assert len(farm.queue.bodies) == 100
    assert [event.by for event in farm.events.of(JobApproved)] == [ARTIST]
    with pytest.raises(ConflictError, match="submitted already"):
        farm.services.desk.submit(ARTIST, job.job_id)
    assert len(farm.queue.bodies) == 100


def test_an_estimate_over_the_admin_line_needs_an_admin() -> None:
    farm = Farm()
    job = farm.render_probes(farm.submit("shot.blend 1-1000"), SLOW_FRAME_S)
    assert job.approval == "admin"
    with pytest.raises(PermissionDenied, match="Only an admin can submit"):
        farm.services.desk.submit(ARTIST, job.job_id)
    assert farm.services.desk.submit(ADMIN, job.job_id).status is JobStatus.RUNNING


def test_while_the_budget_guard_is_on_nothing_renders_before_an_admin_submits() -> None:
    farm = Farm(guard_on=True)
    job = farm.submit("shot.blend 1-10")
    assert job.status is JobStatus.AWAITING_APPROVAL and job.approval == "admin"
    assert farm.queue.bodies == []
    announcer = farm.services.announcer
    ask = announcer.ask_for_submit(job)
    assert ask is not None and ask.job.approval == "admin"  # the thread asks the admins, once
    assert announcer.ask_for_submit(job) is None
    announcer.notice_not_posted(ask)  # posting it failed: the next try asks again
    assert announcer.ask_for_submit(job) is not None
    assert farm.services.desk.submit(ADMIN, job.job_id).status is JobStatus.QUEUED
    assert len(farm.queue.bodies) == 10


def test_a_failing_probe_stops_the_job_with_the_frame_and_reason_and_spends_nothing_more() -> None:
    farm = Farm()
    job = farm.render_probes(farm.submit("shot.blend 1-100"), FAST_FRAME_S, fail=51)
    assert job.status is JobStatus.FAILED
    assert job.failure == "probe frame 51 failed: missing texture wood.png"
    assert len(farm.queue.bodies) == 3
    completed = farm.events.of(JobCompleted)
    assert completed and {event.status for event in completed} == {"failed"}
    assert completed[0].failed_frames == [51]


def test_a_job_nobody_submits_expires_once() -> None:
    farm = Farm()
    job = farm.render_probes(farm.submit("shot.blend 1-100"), SLOW_FRAME_S)
    assert farm.services.fanout.expire_waiting() == []  # not yet
    farm.clock.now += 31 * 60
    (expired,) = farm.services.fanout.expire_waiting()
    assert expired.job_id == job.job_id and expired.status is JobStatus.EXPIRED
    assert expired.failure == "nobody pressed Submit within 30 min 00 s"
    assert farm.services.fanout.expire_waiting() == []
    assert [event.status for event in farm.events.of(JobCompleted)] == ["expired"]
    with pytest.raises(ConflictError, match="expired"):
        farm.services.desk.submit(ARTIST, job.job_id)


def test_only_the_submitter_or_an_admin_may_cancel_and_the_end_is_announced_once() -> None:
    farm = Farm()
    job = farm.submit("shot.blend 1-12")
    with pytest.raises(
        PermissionDenied, match=rf"Only {re.escape(mention(ARTIST))} \(who submitted `{job.job_id}`\)"
    ):
        farm.services.desk.cancel(OTHER, job.job_id)
    assert farm.services.desk.cancel(ADMIN, job.job_id).status is JobStatus.CANCELLED
    with pytest.raises(ConflictError, match="already cancelled"):
        farm.services.desk.cancel(ARTIST, job.job_id)
    assert [event.status for event in farm.events.of(JobCompleted)] == ["cancelled"]


def test_the_same_words_resent_within_minutes_are_the_same_job() -> None:
    farm = Farm()
    request = parse_render(split_words("shot.blend 1-12"))
    first = farm.services.desk.submit_typed(request, ARTIST, "C1", "shot.blend 1-12")
    farm.clock.now += 150  # Slack's own retries come within minutes: the next window still finds it
    again = farm.services.desk.submit_typed(request, ARTIST, "C1", "shot.blend   1-12")
    assert isinstance(first, Submission) and first.created and first.job is not None
    assert isinstance(again, AlreadySent) and again.job.job_id == first.job.job_id
    assert len(farm.queue.bodies) == 12


def test_a_job_finishes_once_when_its_last_frame_is_counted_however_often_delivered() -> None:
    farm = Farm()
    job = farm.submit("shot.blend 1-51x25")  # frames 1, 26 and 51
    assert job.total == 3
    for frame in (1, 26, 51, 51, 26):
        farm.services.reporter.frame_done(job.job_id, frame, FAST_FRAME_S, f"out/{frame}.png", FAST_FRAME_S)
    finished = farm.jobs.get(job.job_id)
    assert finished.status is JobStatus.DONE and finished.done == 3
    assert [event.status for event in farm.events.of(JobCompleted)] == ["done"]
