"""Probe frames, estimates and Submit: a big job renders first, middle and last frames, then is estimated, then goes
on (or waits for the right person, or expires). Nothing more is spent after a failing probe."""

from __future__ import annotations

import re
from dataclasses import replace
from itertools import count
from pathlib import Path

import pytest

from backend.aws.sns import SnsPublisher
from backend.commands import split_words
from backend.config import Access, Costs, Settings
from backend.errors import ConflictError, PermissionDenied
from backend.events import JobApproved, JobCompleted, JobEstimated
from backend.people import mention
from backend.render.grammar import parse_render
from backend.render.records import Job, JobStatus
from backend.render.tasks import RenderTask
from blender_image.scene_cache import SceneCache
from blender_image.worker import RenderWorker
from entry.expiry import sweep as render_sweep
from entry.wiring import Services
from testing.renderer import PillowRenderer

from .conftest import ADMIN, ARTIST, OTHER, Stack

FRAME_S = 60.0  # every clock reading in a worker is a minute after the last


class Farm:
    """The stack's services built with chosen costs and clocks, and a worker whose every frame takes minutes."""

    def __init__(self, stack: Stack, tmp_path: Path, costs: Costs, now: float = 1_800_000_000.0) -> None:
        self.stack = stack
        self.now = now
        self.settings: Settings = replace(
            stack.settings, costs=costs, access=Access(admins=frozenset({ADMIN}))
        )
        services = Services(
            self.settings, clock=lambda: self.now, store=stack.store, jobs=stack.jobs, queue=stack.queue
        )
        self.services = services
        self.guard = services.guard
        self.fanout = services.fanout
        self.lifecycle = services.lifecycle
        self.outbox = services.outbox
        self.service = services.submissions
        reporter = services.reporter
        ticks = count()
        self.renderer = PillowRenderer()
        self.worker = RenderWorker(
            jobs=stack.jobs,
            reporter=reporter,
            scenes=SceneCache(stack.store, tmp_path / "scenes"),
            renderer=self.renderer,
            uploader=stack.store,
            work_dir=tmp_path,
            clock=lambda: next(ticks) * FRAME_S,
        )

    def submit(self, text: str = "shot.blend 1-24 --res 32x18", by: str = ARTIST) -> Job:
        self.stack.put_scene()
        submission = self.service.submit(parse_render(split_words(text)), requested_by=by, channel="C1")
        assert submission.job is not None
        return submission.job

    def queued(self) -> list[RenderTask]:
        return [RenderTask.from_json(body) for body in self.stack.queued_bodies()]

    def run(self, tasks: list[RenderTask]) -> None:
        for task in tasks:
            self.worker.run(task)

    def events(self, kind: type) -> list:
        return [event for event in self.stack.events() if isinstance(event, kind)]


# A probe task: start, render (1 min), upload, record: 3 minutes billed. 10 GB × 180 s ≈ $0.0300 a frame.
PER_FRAME_USD = 10 * 180 * 0.0000166667 + 9.5 * 180 * 0.0000000309
CHEAP = Costs(probe_over_frames=10, confirm_over_usd=5.0, admin_over_usd=50.0, concurrency=4)


def test_a_big_job_probes_first_middle_and_last_then_queues_the_rest_once(
    stack: Stack, tmp_path: Path
) -> None:
    farm = Farm(stack, tmp_path, CHEAP)
    job = farm.submit()
    assert (job.status, job.probe_frames) == (JobStatus.PROBING, (1, 13, 24))
    probes = farm.queued()
    assert [(task.frames, task.probe) for task in probes] == [((1,), True), ((13,), True), ((24,), True)]

    farm.run(probes)
    running = stack.jobs.get(job.job_id)
    assert running.status is JobStatus.RUNNING and running.done == 3
    assert running.estimate is not None
    assert running.estimate.frame_s == 180.0 and running.estimate.render_s == FRAME_S
    assert running.estimate.cost_usd == pytest.approx(24 * PER_FRAME_USD + 24 * 0.0000002, rel=1e-6)
    assert running.estimate.eta_s == 6 * 180.0  # 21 tasks, 4 at a time: 6 waves
    (estimated,) = farm.events(JobEstimated)
    assert estimated.approval == "" and estimated.estimated_cost_usd == pytest.approx(
        running.estimate.cost_usd
    )
    rest = farm.queued()
    assert sorted(frame for task in rest for frame in task.frames) == [
        f for f in range(1, 25) if f not in (1, 13, 24)
    ]
    assert not any(task.probe for task in rest)

    farm.run(probes)  # SQS delivers the probes again: nothing re-rendered, nothing re-estimated or re-queued
    assert farm.queued() == [] and len(farm.events(JobEstimated)) == 1
    farm.run(rest)
    done = stack.jobs.get(job.job_id)
    assert (done.status, done.done, done.failed) == (JobStatus.DONE, 24, 0)
    assert sorted(farm.renderer.rendered) == list(range(1, 25))
    # billed: 3 probes × 3 min, then each rest task 3 min for its one frame
    assert done.billed_s == pytest.approx(24 * 180.0)
    (completed,) = farm.events(JobCompleted)
    assert completed.status == "done"


def test_a_failing_probe_stops_the_job_and_nothing_more_is_spent(stack: Stack, tmp_path: Path) -> None:
    farm = Farm(stack, tmp_path, CHEAP)
    farm.renderer.fail_frames = {13}
    job = farm.submit()
    first, middle, last = farm.queued()
    farm.run([first, middle])
    failed = stack.jobs.get(job.job_id)
    assert failed.status is JobStatus.FAILED
    assert (
        failed.failure
        == "probe frame 13 failed: RuntimeError: Blender could not render frame 13: missing texture wood.png"
    )
    farm.run([last])  # a probe still on the queue is acknowledged without rendering
    assert farm.renderer.rendered == [1]
    assert farm.queued() == []
    # (the last probe's delivery announces it again until the notifier has: it says it once, see test_notifier)
    completions = {(event.status, tuple(event.failed_frames)) for event in farm.events(JobCompleted)}
    assert completions == {("failed", (13,))}
    assert farm.events(JobEstimated) == []


def test_over_confirm_over_the_job_waits_for_its_submitter(stack: Stack, tmp_path: Path) -> None:
    farm = Farm(stack, tmp_path, replace(CHEAP, confirm_over_usd=0.50))
    job = farm.submit()
    farm.run(farm.queued())
    waiting = stack.jobs.get(job.job_id)
    assert (waiting.status, waiting.approval) == (JobStatus.AWAITING_APPROVAL, "submitter")
    assert waiting.approval_reason == "the estimate $0.72 is over $0.50"
    (estimated,) = farm.events(JobEstimated)
    assert (estimated.approval, estimated.reason) == ("submitter", "the estimate $0.72 is over $0.50")
    assert farm.queued() == []  # nothing more until Submit

    with pytest.raises(
        PermissionDenied,
        match=rf"Only {re.escape(mention('U0ARTIST'))} \(who asked for `r\w+`\) or an admin can submit it",
    ):
        farm.lifecycle.approve(job.job_id, OTHER)
    approved = farm.lifecycle.approve(job.job_id, ARTIST)
    assert approved.status is JobStatus.RUNNING and approved.approved_by == ARTIST
    assert len(farm.queued()) == 21
    (event,) = farm.events(JobApproved)
    assert event.by == ARTIST
    with pytest.raises(ConflictError, match=re.escape(f"was submitted already, by {mention('U0ARTIST')}")):
        farm.lifecycle.approve(job.job_id, ADMIN)  # a second click


def test_over_admin_over_only_an_admin_may_submit(stack: Stack, tmp_path: Path) -> None:
    farm = Farm(stack, tmp_path, replace(CHEAP, confirm_over_usd=0.10, admin_over_usd=0.50))
    job = farm.submit()
    farm.run(farm.queued())
    assert stack.jobs.get(job.job_id).approval == "admin"
    with pytest.raises(
        PermissionDenied, match=r"Only an admin can submit `r\w+`: the estimate \$0.72 is over \$0.50"
    ):
        farm.lifecycle.approve(job.job_id, ARTIST)
    assert farm.lifecycle.approve(job.job_id, ADMIN).status is JobStatus.RUNNING


def test_while_the_guard_is_on_new_renders_wait_for_an_admin_before_anything_renders(
    stack: Stack, tmp_path: Path
) -> None:
    farm = Farm(stack, tmp_path, CHEAP)
    farm.guard.turn(True, "AWS Budgets", "studiobot-prod-monthly: $512.00 of $500.00")
    job = farm.submit("shot.blend 1-24 --res 32x18")
    assert (job.status, job.approval) == (JobStatus.AWAITING_APPROVAL, "admin")
    assert "over its AWS budget" in job.approval_reason
    assert farm.queued() == []
    probing = farm.lifecycle.approve(job.job_id, ADMIN)
    assert probing.status is JobStatus.PROBING and len(farm.queued()) == 3
    # probes done, the admin's Submit counts: the estimate needs nobody else
    assert farm.events(JobApproved)[0].by == ADMIN
    own = farm.submit("shot.blend 1-4", by=ADMIN)  # an admin's own render is not held by the guard
    assert own.status is JobStatus.QUEUED


def test_an_unsubmitted_job_expires_after_30_minutes_once(stack: Stack, tmp_path: Path) -> None:
    farm = Farm(stack, tmp_path, replace(CHEAP, confirm_over_usd=0.50))
    job = farm.submit()
    farm.run(farm.queued())
    waiting = stack.jobs.get(job.job_id)
    assert waiting.awaiting_since is not None
    farm.now = waiting.awaiting_since + 29 * 60
    assert farm.fanout.expire_waiting() == []
    farm.now = waiting.awaiting_since + 31 * 60
    (expired,) = farm.fanout.expire_waiting()
    assert expired.status is JobStatus.EXPIRED
    assert expired.failure == "nobody pressed Submit within 30 min 00 s"
    assert farm.fanout.expire_waiting() == []  # the next sweep finds nothing
    (completed,) = farm.events(JobCompleted)
    assert completed.status == "expired"
    with pytest.raises(ConflictError, match="is expired: there is nothing to submit"):
        farm.lifecycle.approve(job.job_id, ARTIST)


def test_a_job_of_probe_frames_alone_ends_when_they_are_in(stack: Stack, tmp_path: Path) -> None:
    farm = Farm(stack, tmp_path, replace(CHEAP, probe_over_frames=1))
    job = farm.submit("shot.blend 1-3 --res 32x18")
    assert job.probe_frames == (1, 2, 3)
    farm.run(farm.queued())
    done = stack.jobs.get(job.job_id)
    assert (done.status, done.done) == (JobStatus.DONE, 3)
    (completed,) = farm.events(JobCompleted)
    assert completed.status == "done"


class FlakyQueue:
    """The render queue, failing the first send after `fail_after` sends (a worker dying mid-enqueue)."""

    def __init__(self, queue: object, fail_after: int) -> None:
        self.queue = queue
        self.sends = 0
        self.fail_after = fail_after

    def send_all(self, bodies: list[str], group: str) -> None:
        self.sends += 1
        if self.sends == self.fail_after + 1:
            raise ConnectionError("the worker died while queueing")
        self.queue.send_all(bodies, group)  # type: ignore[attr-defined]


def test_a_delivery_that_died_after_the_estimate_is_finished_by_the_next_one(
    stack: Stack, tmp_path: Path
) -> None:
    farm = Farm(stack, tmp_path, CHEAP)
    farm.fanout.queue = FlakyQueue(stack.queue, fail_after=1)  # the probes go out; queueing the rest dies
    job = farm.submit()
    probes = farm.queued()
    farm.run(probes[:2])
    with pytest.raises(ConnectionError):
        farm.run(probes[2:])
    stuck = stack.jobs.get(job.job_id)
    assert stuck.status is JobStatus.RUNNING and not stuck.enqueued and farm.queued() == []
    # SQS delivers the last probe again once its visibility timeout (far longer than the enqueue lease) is over
    later = stack.jobs._clock() + 5400
    stack.jobs._clock = lambda: later
    farm.run(probes[2:])
    assert len(farm.queued()) == 21 and stack.jobs.get(job.job_id).enqueued
    assert len(farm.events(JobEstimated)) == 1


class FlakyEvents:
    """The studio-events topic, failing the first publish of one kind of event (a Lambda dying right there)."""

    def __init__(self, events: SnsPublisher, kind: type) -> None:
        self.events = events
        self.kind = kind
        self.failed = False

    def publish(self, event: object) -> None:
        if isinstance(event, self.kind) and not self.failed:
            self.failed = True
            raise ConnectionError("SNS was unreachable")
        self.events.publish(event)  # type: ignore[arg-type]


def test_an_estimate_whose_announcement_failed_is_announced_by_the_redelivery(
    stack: Stack, tmp_path: Path
) -> None:
    farm = Farm(stack, tmp_path, replace(CHEAP, confirm_over_usd=0.50))
    farm.outbox.events = FlakyEvents(SnsPublisher(farm.settings.events_topic_arn), JobEstimated)
    job = farm.submit()
    probes = farm.queued()
    farm.run(probes[:2])
    farm.run(probes[2:])  # the publish fails: the estimate stays in the job's outbox, the frame is counted
    stored = stack.jobs.get(job.job_id)
    assert stored.status is JobStatus.AWAITING_APPROVAL and stored.outbox == ("estimated",)
    assert farm.events(JobEstimated) == []
    farm.run(probes[2:])  # SQS delivers a task again: whoever sees it pending publishes it
    (estimated,) = farm.events(JobEstimated)
    assert estimated.approval == "submitter" and stack.jobs.get(job.job_id).outbox == ()
    farm.run(probes)
    assert len(farm.events(JobEstimated)) == 1


def test_an_expiry_whose_announcement_failed_is_announced_by_the_next_sweep(
    stack: Stack, tmp_path: Path
) -> None:
    farm = Farm(stack, tmp_path, replace(CHEAP, confirm_over_usd=0.50))
    job = farm.submit()
    farm.run(farm.queued())
    farm.outbox.events = FlakyEvents(SnsPublisher(farm.settings.events_topic_arn), JobCompleted)
    farm.now = (stack.jobs.get(job.job_id).awaiting_since or 0) + 31 * 60
    assert [job.job_id for job in farm.fanout.expire_waiting()] == [job.job_id]
    assert stack.jobs.get(job.job_id).status is JobStatus.EXPIRED and farm.events(JobCompleted) == []
    assert render_sweep(farm.services) == {
        "expired": [],
        "published": [("JobCompleted", job.job_id)],
        "gpu_untaken": [],
    }
    assert [event.status for event in farm.events(JobCompleted)] == ["expired"]
    assert render_sweep(farm.services) == {"expired": [], "published": [], "gpu_untaken": []}
