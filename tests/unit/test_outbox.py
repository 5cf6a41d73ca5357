"""One announcement per fact under faults: a failed publish, a crash between the write and the publish, redeliveries.

The job store records each fact in the write that makes it true; the outbox publishes it, and the sweep publishes
whatever stayed pending past the grace (in-memory job store: the same conditions as DynamoDB's)."""

from __future__ import annotations

from backend.events import Event, JobCompleted, JobEstimated
from backend.render.outbox import GRACE_S
from backend.render.records import JobStatus
from entry.expiry import sweep
from testing.jobs import RecordingEvents
from tests.unit.test_fanout import FAST_FRAME_S, Farm


class FailingEvents(RecordingEvents):
    """The studio-events topic, unreachable for the next `failures` publishes."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def publish(self, event: Event) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("SNS was unreachable")
        super().publish(event)


def _farm_with(events: RecordingEvents) -> Farm:
    farm = Farm()
    farm.services.outbox.events = events
    return farm


def test_a_publish_that_fails_as_the_job_finishes_is_published_once_by_the_sweep() -> None:
    events = FailingEvents(0)
    farm = _farm_with(events)
    job = farm.submit("shot.blend 1-4")
    events.failures = 1
    for frame in range(1, 5):
        farm.services.reporter.frame_done(job.job_id, frame, FAST_FRAME_S, f"out/{frame}.png", FAST_FRAME_S)
    finished = farm.jobs.get(job.job_id)
    assert finished.status is JobStatus.DONE and finished.outbox == ("completed",)
    assert events.of(JobCompleted) == []  # the frame was still counted: the worker did its part
    # redeliveries of the last task count nothing and leave the announcement to the sweep
    farm.services.reporter.frame_done(job.job_id, 4, FAST_FRAME_S, "out/4.png", FAST_FRAME_S)
    assert sweep(farm.services)["published"] == []  # within the grace, the finisher may still publish it
    farm.clock.now += GRACE_S + 1
    assert sweep(farm.services)["published"] == [("JobCompleted", job.job_id)]
    assert sweep(farm.services)["published"] == []
    (completed,) = events.of(JobCompleted)
    assert completed.status == "done" and completed.done == 4 and farm.jobs.get(job.job_id).outbox == ()


def test_a_probe_failed_job_redelivered_five_times_is_announced_once() -> None:
    farm = Farm()
    job = farm.submit("shot.blend 1-100")
    farm.render_probes(job, FAST_FRAME_S, fail=51)
    for _ in range(5):
        farm.services.reporter.frame_failed(job.job_id, 51, "missing texture wood.png", FAST_FRAME_S)
        farm.services.reporter.frame_done(job.job_id, 100, FAST_FRAME_S, "out/100.png", FAST_FRAME_S)
    farm.clock.now += GRACE_S + 1
    sweep(farm.services)
    (completed,) = farm.events.of(JobCompleted)
    assert completed.status == "failed" and completed.failed_frames == [51]


def test_an_estimate_lost_with_its_process_is_published_by_the_sweep_once() -> None:
    events = FailingEvents(0)
    farm = _farm_with(events)
    job = farm.submit("shot.blend 1-100")
    events.failures = 1  # the process dies right after the write that settled the probes
    settled = farm.render_probes(job, FAST_FRAME_S)
    assert settled.status is JobStatus.RUNNING and settled.outbox == ("estimated",)
    assert len(farm.queue.bodies) == 100  # queued before it was announced: nothing lost but the notice
    farm.clock.now += GRACE_S + 1
    assert sweep(farm.services)["published"] == [("JobEstimated", job.job_id)]
    assert len(events.of(JobEstimated)) == 1 and sweep(farm.services)["published"] == []


def test_every_fact_of_a_job_is_published_once_however_the_announcements_interleave() -> None:
    farm = Farm()
    job = farm.submit("shot.blend 1-100")
    farm.render_probes(job, 600.0)  # waits for Submit: estimated
    farm.services.desk.submit("U0ARTIST", job.job_id)  # approved
    farm.services.desk.cancel("U0ARTIST", job.job_id)  # completed (cancelled)
    for _ in range(3):
        farm.clock.now += GRACE_S + 1
        sweep(farm.services)
    kinds = [type(event).__name__ for event in farm.events.events if type(event).__name__ != "JobProgress"]
    assert kinds == ["JobEstimated", "JobApproved", "JobCompleted"]
    assert farm.jobs.get(job.job_id).outbox == () and farm.jobs.pending_before(farm.clock.now) == []


def test_a_job_that_ends_without_failures_is_announced_without_reading_its_frames() -> None:
    events = RecordingEvents()
    farm = _farm_with(events)
    job = farm.submit("shot.blend 1-4")
    reads: list[str] = []
    failed_frames = farm.jobs.failed_frames

    def counted(job_id: str) -> list[int]:
        reads.append(job_id)
        return failed_frames(job_id)

    farm.jobs.failed_frames = counted  # type: ignore[method-assign]
    for frame in range(1, 5):
        farm.services.reporter.frame_done(job.job_id, frame, FAST_FRAME_S, f"out/{frame}.png", FAST_FRAME_S)
    (completed,) = events.of(JobCompleted)
    assert completed.failed_frames == [] and completed.done == 4
    assert reads == []  # the job's failed counter said 0: its frame records were not queried
