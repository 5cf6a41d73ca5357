"""One contract, two job stores: DynamoDB (moto) and the in-memory fake the unit tests use answer alike."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from moto import mock_aws

from backend.errors import ConflictError, NotFoundError
from backend.render.estimates import Approval, Estimate
from backend.render.lifecycle import TRANSITIONS, Event, row
from backend.render.ports import JobStore
from backend.render.records import (
    FrameOutcome,
    FrameRecord,
    Job,
    JobStatus,
    Priority,
    Recorded,
    TileRecord,
)
from backend.render.store import DynamoJobs
from backend.render.tasks import RenderSettings
from local.embedded.stack import deploy
from testing.jobs import InMemoryJobs


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["dynamodb", "in-memory"])
def store(request: pytest.FixtureRequest) -> Iterator[tuple[JobStore, Clock]]:
    clock = Clock()
    if request.param == "in-memory":
        yield InMemoryJobs(clock), clock
        return
    with mock_aws():
        yield DynamoJobs(deploy(None).settings().table_name, clock=clock), clock


def _job(job_id: str, status: JobStatus = JobStatus.QUEUED, total: int = 3, **extra: object) -> Job:
    return Job(
        job_id=job_id,
        status=status,
        scene_bucket="scenes",
        scene_key="scenes/shot.blend",
        scene_etag="etag",
        frames_spec=f"1-{total}",
        total=total,
        task_count=total,
        settings=RenderSettings(),
        output_bucket="outputs",
        output_prefix=f"outputs/{job_id}/",
        requested_by="U0ARTIST",
        channel="C1",
        created_at=1_800_000_000.0,
        **extra,  # type: ignore[arg-type]
    )


def _done(frame: int, billed_s: float = 2.0) -> FrameRecord:
    return FrameRecord(
        frame, FrameOutcome.DONE, seconds=1.0, output_key=f"out/{frame}.png", billed_s=billed_s
    )


def test_creation_and_frames_count_once(store: tuple[JobStore, Clock]) -> None:
    jobs, _ = store
    assert jobs.create(_job("r1"))[1] is True
    assert jobs.create(_job("r1"))[1] is False
    assert jobs.start("r1") is True and jobs.start("r1") is False
    assert jobs.record_frame("r1", _done(1)).counted is True
    assert jobs.record_frame("r1", _done(1)).counted is False
    failed = jobs.record_frame("r1", FrameRecord(2, FrameOutcome.FAILED, error="no camera"))
    assert failed.counted and failed.job.remaining == 1 and failed.job.failed == 1
    assert jobs.finish("r1") is None  # a frame remains
    last = jobs.record_frame("r1", _done(3)).job
    finished = jobs.finish("r1", last)  # the job as its last record left it: not read again
    assert finished is not None and finished.status is JobStatus.DONE_WITH_FAILURES
    assert finished == jobs.get("r1") and finished.outbox == ("completed",)  # as written, outbox and all
    assert jobs.finish("r1") is None
    assert jobs.failed_frames("r1") == [2] and [r.frame for r in jobs.frames_at("r1", [3, 1, 9])] == [1, 3]
    assert [r.frame for r in jobs.frames("r1", 2, 3)] == [2, 3]
    assert jobs.get("r1").billed_s == pytest.approx(4.0)
    with pytest.raises(ConflictError, match="already done with failures"):
        jobs.cancel("r1")
    with pytest.raises(NotFoundError):
        jobs.get("nope")


def _elsewhere(jobs: JobStore) -> JobStore:
    """The same jobs as another process sees them (with its own memory of what it read)."""
    if isinstance(jobs, DynamoJobs):
        return DynamoJobs(jobs.table_name, client=jobs.client, clock=jobs._clock)
    return jobs


def test_a_record_returns_the_job_as_stored_after_it_whatever_others_did_since(
    store: tuple[JobStore, Clock],
) -> None:
    jobs, _ = store
    other = _elsewhere(jobs)
    jobs.create(_job("r1", total=7))
    jobs.start("r1")
    job, records = jobs.job_and_frames("r1", [1, 2])
    assert (job.status, records) == (JobStatus.RUNNING, [])
    other.record_frame("r1", _done(1, billed_s=1.25))  # another worker counts a frame since that read
    after = jobs.record_frame("r1", _done(2, billed_s=0.5)).job
    assert after == other.get("r1") and (after.done, after.billed_s) == (2, 1.75)
    after = jobs.record_frame("r1", _done(3, billed_s=0.125)).job  # nobody else since
    assert after == other.get("r1") and (after.done, after.remaining, after.billed_s) == (3, 4, 1.875)
    assert jobs.record_frame("r1", _done(3)) == Recorded(counted=False, job=after)  # delivered again
    jobs.record_frame("r1", _done(4, billed_s=0.1))
    after = jobs.record_frame("r1", _done(5, billed_s=1 / 3)).job  # a chunk's frames, one after the other
    assert after == other.get("r1") and (after.done, after.billed_s) == (5, pytest.approx(2.308))
    other.cancel("r1")
    stopped = jobs.record_frame("r1", FrameRecord(6, FrameOutcome.FAILED, error="no camera"))
    assert stopped.counted and stopped.job == other.get("r1") and stopped.job.status is JobStatus.CANCELLED
    job, records = jobs.job_and_frames("r1", [6, 5, 9])
    assert job == stopped.job and [(r.frame, r.outcome) for r in records] == [
        (5, FrameOutcome.DONE),
        (6, FrameOutcome.FAILED),
    ]
    with pytest.raises(NotFoundError, match="There is no render job `nope`"):
        jobs.job_and_frames("nope", [1])


def test_enqueue_claims_are_leases(store: tuple[JobStore, Clock]) -> None:
    jobs, clock = store
    jobs.create(_job("r2"))
    assert jobs.claim_enqueue("r2") is True
    assert jobs.claim_enqueue("r2") is False  # another enqueue holds the lease
    clock.now += 901
    assert jobs.claim_enqueue("r2") is True  # the one that held it died
    marked = jobs.mark_enqueued("r2")  # the job as marked: the fan-out reads nothing after it
    assert marked.enqueued and marked.fanned_out_at == clock.now and marked == jobs.get("r2")
    clock.now += 901
    assert jobs.claim_enqueue("r2") is False and jobs.get("r2").enqueued


def test_probes_approval_and_expiry_move_once(store: tuple[JobStore, Clock]) -> None:
    jobs, clock = store
    jobs.create(_job("r3", JobStatus.PROBING, total=100, probe_frames=(1, 50, 100)))
    guess = Estimate(frame_s=600.0, render_s=590.0, cost_usd=10.0, eta_s=60.0)
    asked = Approval("submitter", "the estimate $10.00 is over $5.00")
    assert jobs.settle_probes("r3", guess, asked) is True
    assert jobs.settle_probes("r3", guess, None) is False
    waiting = jobs.get("r3")
    assert (
        waiting.status is JobStatus.AWAITING_APPROVAL and waiting.awaiting and waiting.approval == "submitter"
    )
    assert jobs.awaiting_since_before(clock.now - 60) == []
    assert jobs.awaiting_since_before(clock.now) == ["r3"]
    assert jobs.expire("r3", clock.now - 60, "too late") is None  # not waiting long enough
    assert jobs.approve("r3", "U0ARTIST", False, JobStatus.RUNNING) is True
    assert jobs.approve("r3", "U0ARTIST", False, JobStatus.RUNNING) is False
    assert not jobs.get("r3").awaiting and jobs.get("r3").approved_by == "U0ARTIST"

    jobs.create(_job("r4", JobStatus.PROBING, total=100, probe_frames=(1, 50, 100)))
    jobs.settle_probes("r4", guess, asked)
    clock.now += 1800
    expired = jobs.expire("r4", clock.now, "nobody pressed Submit")
    assert expired is not None and expired.status is JobStatus.EXPIRED and expired.awaiting
    assert jobs.expire("r4", clock.now, "nobody pressed Submit") is None
    jobs.clear_awaiting("r4")
    assert jobs.awaiting_since_before(clock.now) == []

    jobs.create(_job("r5", JobStatus.PROBING, total=100, probe_frames=(1, 50, 100)))
    failed = jobs.fail("r5", "probe frame 50 failed")
    assert failed is not None and failed.status is JobStatus.FAILED and jobs.fail("r5", "again") is None


def test_notices_are_claimed_once_and_can_be_given_back(store: tuple[JobStore, Clock]) -> None:
    jobs, clock = store
    jobs.create(_job("r6", total=1))
    assert jobs.claim_completion_notice("r6") is False  # not over yet
    assert jobs.claim_notice("r6", "estimate") is True and jobs.claim_notice("r6", "estimate") is False
    jobs.release_notice("r6", "estimate")
    assert jobs.claim_notice("r6", "estimate") is True
    jobs.record_frame("r6", _done(1))
    jobs.finish("r6")
    assert jobs.claim_completion_notice("r6") is True and jobs.claim_completion_notice("r6") is False
    jobs.release_completion_notice("r6")
    assert jobs.claim_completion_notice("r6") is True
    clock.now += 10
    throttle: Callable[[Job, float], bool] = jobs.claim_progress_report
    assert throttle(jobs.get("r6"), 5.0) is True
    assert throttle(jobs.get("r6"), 5.0) is False
    clock.now += 6
    assert throttle(jobs.get("r6"), 5.0) is True


def test_a_fact_is_in_the_outbox_from_the_write_that_makes_it_true_until_published_once(
    store: tuple[JobStore, Clock],
) -> None:
    jobs, clock = store
    jobs.create(_job("r-out", total=1))
    assert jobs.get("r-out").outbox == () and jobs.pending_before(clock.now + 1) == []
    jobs.record_frame("r-out", _done(1))
    assert jobs.finish("r-out") is not None
    assert jobs.get("r-out").outbox == ("completed",)
    clock.now += 30
    jobs.create(_job("r-later", status=JobStatus.PROBING, total=10, probe_frames=(1, 5, 10)))
    assert jobs.fail("r-later", "probe frame 5 failed") is not None
    assert jobs.pending_before(clock.now - 31) == []
    assert jobs.pending_before(clock.now - 30) == ["r-out"]  # oldest first, by when the fact was recorded
    assert jobs.pending_before(clock.now) == ["r-out", "r-later"]
    assert jobs.mark_published("r-out", "completed") is True
    assert jobs.mark_published("r-out", "completed") is False  # published once
    assert jobs.get("r-out").outbox == () and jobs.pending_before(clock.now) == ["r-later"]

    # two facts pending (estimated, then Submit pressed): the job stays indexed until the last is published
    jobs.create(_job("r-two", JobStatus.PROBING, total=10, probe_frames=(1, 5, 10)))
    guess = Estimate(frame_s=60.0, render_s=59.0, cost_usd=10.0, eta_s=60.0)
    assert jobs.settle_probes("r-two", guess, Approval("submitter", "over $5.00")) is True
    assert jobs.approve("r-two", "U0ARTIST", False, JobStatus.RUNNING) is True
    assert jobs.get("r-two").outbox == ("estimated", "approved")
    assert jobs.mark_published("r-two", "approved") is True
    assert jobs.get("r-two").outbox == ("estimated",) and "r-two" in jobs.pending_before(clock.now)
    assert (
        jobs.mark_published("r-two", "estimated") is True
        and jobs.mark_published("r-two", "estimated") is False
    )
    assert jobs.get("r-two").outbox == () and "r-two" not in jobs.pending_before(clock.now)


def test_tiles_count_once_one_caller_stitches_and_a_re_plan_happens_once(
    store: tuple[JobStore, Clock],
) -> None:
    jobs, clock = store
    jobs.create(_job("r9", JobStatus.PROBING, total=2, probe_frames=(1, 2)))
    tiled = RenderSettings(tiles=(2, 1))
    assert jobs.replan("r9", tiled, 1234.5, "frame 1 would take about 21 min whole") is True
    assert jobs.replan("r9", RenderSettings(tiles=(4, 4)), 1.0, "again") is False
    job = jobs.get("r9")
    assert (job.settings.tiles, job.predicted_s, job.replanned) == (
        (2, 1),
        1234.5,
        "frame 1 would take about 21 min whole",
    )
    tile = TileRecord(
        0, FrameOutcome.DONE, seconds=5.0, billed_s=6.0, output_key="tiles/r9/a", cut="64x36/2x1+4"
    )
    assert jobs.record_tile("r9", 1, tile).counted is True
    again = jobs.record_tile("r9", 1, tile)
    assert (
        again.counted is False
        and again.job.tile_counts == {1: 1}
        and again.job.billed_s == pytest.approx(6.0)
    )
    jobs.record_tile(
        "r9", 1, TileRecord(1, FrameOutcome.DONE, seconds=5.0, billed_s=6.0, output_key="tiles/r9/b")
    )
    assert [record.tile for record in jobs.tiles("r9", 1)] == [0, 1] and jobs.tiles("r9", 2) == []
    assert jobs.tiles("r9", 1)[0].cut == "64x36/2x1+4"
    assert jobs.claim_stitch("r9", 1) is True and jobs.claim_stitch("r9", 1) is False
    clock.now += 901
    assert jobs.claim_stitch("r9", 1) is True  # the stitch that held it died
    stitched = FrameRecord(1, FrameOutcome.DONE, seconds=10.0, billed_s=13.0, tiled=True, job_billed_s=1.0)
    recorded = jobs.record_frame("r9", stitched)
    assert recorded.counted and recorded.job.tile_counts == {} and recorded.job.done == 1
    assert recorded.job.billed_s == pytest.approx(13.0)  # the tiles' 12 s and the stitch's 1 s, each once
    assert jobs.frames_at("r9", [1])[0].billed_s == pytest.approx(
        13.0
    )  # the frame's cost, as estimates read it


def test_a_job_found_untaken_keeps_how_long_it_waited(store: tuple[JobStore, Clock]) -> None:
    jobs, _ = store
    jobs.create(_job("r-untaken"))
    assert jobs.get("r-untaken").untaken_s == 0.0
    jobs.note_untaken("r-untaken", 601.25)
    assert jobs.get("r-untaken").untaken_s == 601.25
    jobs.note_untaken("r-nobody", 601.0)  # a job gone meanwhile: nothing is made of it
    with pytest.raises(NotFoundError):
        jobs.get("r-nobody")


def test_a_class_s_active_jobs_are_listed_oldest_first_until_the_write_that_ends_each(
    store: tuple[JobStore, Clock],
) -> None:
    jobs, clock = store
    for job_id, settings, status in (
        ("r-first", RenderSettings(), JobStatus.QUEUED),
        ("r-gpu", RenderSettings(render_class="gpu"), JobStatus.QUEUED),
        ("r-second", RenderSettings(), JobStatus.QUEUED),
        ("r-asks", RenderSettings(), JobStatus.AWAITING_APPROVAL),
    ):
        jobs.create(replace(_job(job_id), settings=settings, status=status, created_at=clock.now))
        clock.now += 1
    assert [job.job_id for job in jobs.active_jobs("cpu")] == ["r-first", "r-second", "r-asks"]
    jobs.cancel("r-first")
    assert jobs.start("r-second")
    for frame in (1, 2, 3):
        jobs.record_frame("r-second", _done(frame))
    assert jobs.finish("r-second") is not None
    assert jobs.expire("r-asks", clock.now, "nobody pressed Submit") is not None
    assert jobs.active_jobs("cpu") == []
    assert [job.job_id for job in jobs.active_jobs("gpu")] == ["r-gpu"]


def test_a_job_keeps_the_priority_it_was_submitted_with(store: tuple[JobStore, Clock]) -> None:
    jobs, _ = store
    jobs.create(_job("r-urgent", priority=Priority.URGENT))
    jobs.create(_job("r-normal"))
    urgent, normal = jobs.get("r-urgent"), jobs.get("r-normal")
    assert (urgent.priority, normal.priority) == (Priority.URGENT, Priority.NORMAL)
    assert (urgent.held_by, urgent.held_at, urgent.generation) == ("", None, 0)  # nobody held it yet


def test_hold_and_resume_move_once_and_each_makes_a_new_generation_of_tasks(
    store: tuple[JobStore, Clock],
) -> None:
    jobs, clock = store
    jobs.create(_job("r-hold"))
    jobs.start("r-hold")
    held = jobs.hold("r-hold", "U0LEAD")
    assert (held.status, held.held_by, held.held_at, held.generation) == (
        JobStatus.HELD,
        "U0LEAD",
        clock.now,
        1,
    )
    assert held == jobs.get("r-hold")  # as written: nothing read again
    with pytest.raises(ConflictError, match="held already"):
        jobs.hold("r-hold", "U0ADMIN")
    assert jobs.record_frame("r-hold", _done(1)).job.done == 1  # a frame in hand across the hold counts
    resumed = jobs.resume("r-hold")
    assert (resumed.status, resumed.held_by, resumed.held_at, resumed.generation) == (
        JobStatus.RUNNING,
        "",
        None,
        2,
    )
    with pytest.raises(ConflictError, match="not held"):
        jobs.resume("r-hold")
    assert jobs.record_frame("r-hold", _done(1)).counted is False  # once, across the hold
    jobs.create(_job("r-never", total=1))
    assert jobs.hold("r-never", "U0LEAD").generation == 1
    assert jobs.resume("r-never").status is JobStatus.QUEUED  # no frame had started
    jobs.hold("r-never", "U0LEAD")
    jobs.record_frame("r-never", _done(1))  # its last frame was in hand: a held job finishes
    assert (finished := jobs.finish("r-never")) is not None and finished.status is JobStatus.DONE


def test_a_new_priority_is_kept_and_only_a_queued_job_gets_a_new_generation(
    store: tuple[JobStore, Clock],
) -> None:
    jobs, _ = store
    jobs.create(_job("r-prio"))
    tasks_out = (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.HELD)
    changed = jobs.prioritise("r-prio", Priority.URGENT, tasks_out, bump=True)
    assert changed is not None and (changed.priority, changed.generation) == (Priority.URGENT, 1)
    assert changed == jobs.get("r-prio")
    later = jobs.prioritise("r-prio", Priority.LOW, (JobStatus.PROBING,), bump=False)
    assert later is None and jobs.get("r-prio").priority is Priority.URGENT  # not in those states: unchanged
    assert jobs.prioritise("r-prio", Priority.NORMAL, tasks_out, bump=False) is not None
    assert (jobs.get("r-prio").priority, jobs.get("r-prio").generation) == (Priority.NORMAL, 1)


# -- the lifecycle table: every (from-state, event) pair, refused or allowed alike by both stores ----------------

PROBES = (1, 2, 3)
GUESS = Estimate(frame_s=600.0, render_s=590.0, cost_usd=10.0, eta_s=60.0)
ASK = Approval("submitter", "the estimate $10.00 is over $5.00")


def _drive(jobs: JobStore, event: Event, job_id: str, to: JobStatus, now: float) -> bool:
    """Ask the store for `event` toward `to`, as the services do; True if it moved the job."""
    if event is Event.START:
        return jobs.start(job_id)
    if event is Event.ESTIMATE:
        return jobs.settle_probes(job_id, GUESS, ASK if to is JobStatus.AWAITING_APPROVAL else None)
    if event is Event.REPLAN:
        return jobs.replan(job_id, RenderSettings(tiles=(2, 2)), 1200.0, "frames too long")
    if event is Event.FAIL:
        return jobs.fail(job_id, "probe frame 2 failed") is not None
    if event is Event.SUBMIT:
        return jobs.approve(job_id, "U0ADMIN", True, to)
    if event is Event.EXPIRE:
        return jobs.expire(job_id, now, "nobody pressed Submit") is not None
    if event is Event.FINISH:
        return jobs.finish(job_id) is not None
    try:
        if event is Event.HOLD:
            jobs.hold(job_id, "U0LEAD")
        elif event is Event.RESUME:
            jobs.resume(job_id)  # the store picks where: RUNNING once a frame started (`_in` says when)
        else:
            assert event is Event.CANCEL
            jobs.cancel(job_id)
    except ConflictError:
        return False
    return True


def _in(status: JobStatus, job_id: str, to: JobStatus, condition_met: bool = True) -> Job:
    """A job in `status` whose other conditions hold (or fail, with `condition_met=False`) for going to `to`."""
    frames_left = 0 if condition_met else 1
    failed = 3 - frames_left if to is JobStatus.DONE_WITH_FAILURES else 0
    return _job(
        job_id,
        status,
        done=3 - frames_left - failed,
        failed=failed,
        probe_frames=PROBES,
        awaiting_since=1_800_000_000.0 if condition_met else 1_800_000_100.0,
        started_at=1_800_000_000.0 if to is JobStatus.RUNNING else None,
    )


def _walk(jobs: JobStore, clock: Clock, event: Event, to: JobStatus, status: JobStatus, met: bool) -> bool:
    job_id = f"r-{event}-{to}-{status}-{met}"
    before, _ = jobs.create(_in(status, job_id, to, met))
    if event is Event.REPLAN and not met:  # re-planned once already
        jobs.replan(job_id, RenderSettings(tiles=(2, 1)), 600.0, "the first re-plan")
        before = jobs.get(job_id)
    moved = _drive(jobs, event, job_id, to, clock.now)
    after = jobs.get(job_id)
    if moved:
        fact = row(event).fact
        assert after.status is to, (event, status, to)
        assert after.outbox == ((fact,) if fact else ()), (event, status)
    else:
        assert (after.status, after.outbox) == (before.status, before.outbox), (event, status)
    return moved


def test_the_lifecycle_table_walks_every_event_from_every_state() -> None:
    assert {transition.event for transition in TRANSITIONS} == set(Event)
    assert {transition.event for transition in TRANSITIONS if transition.condition} == {
        Event.REPLAN,
        Event.EXPIRE,
        Event.FINISH,
    }  # the conditions `_in` knows how to meet and to fail


@pytest.mark.parametrize("event", list(Event))
def test_each_store_allows_what_the_table_allows_and_refuses_the_rest(
    store: tuple[JobStore, Clock], event: Event
) -> None:
    jobs, clock = store
    transition = row(event)
    for to in transition.targets:
        for status in JobStatus:
            moved = _walk(jobs, clock, event, to, status, met=True)
            assert moved is (status in transition.sources), f"{event} from {status} to {to}"
            if transition.condition is not None and status in transition.sources:
                unmet = _walk(jobs, clock, event, to, status, met=False)
                assert unmet is False, f"{event} from {status} with {transition.condition} unmet"


def test_the_first_frame_notes_the_device_view_layer_and_frame_rate_once(
    store: tuple[JobStore, Clock],
) -> None:
    jobs, _ = store
    jobs.create(_job("rfps"))
    jobs.note_device("rfps", "CPU", "ViewLayer", "23.976")
    jobs.note_device("rfps", "GPU · OptiX", "Other", "25")  # a later frame's: the first one's stay
    job = jobs.get("rfps")
    assert (job.device, job.preview_layer, job.fps) == ("CPU", "ViewLayer", "23.976")
