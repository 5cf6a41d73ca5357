"""The local stack's notifier tells each job fact once in the stack log, with or without Slack, and keeps a notice
Slack will not take for two days, tried again with growing waits, saying so once."""

from __future__ import annotations

from backend.events import Event
from backend.render.records import Job, JobStatus
from backend.render.tasks import RenderSettings
from bot.undelivered import KEEP_FOR_S, LONGEST_WAIT_S, kept_for
from entry.wiring import Services
from local.embedded.notices import FIRST_WAIT_S, StackNotifier, Told

from .conftest import Stack


class UnreachableSlack:
    def handle(self, event: Event) -> None:
        raise ConnectionError("slack.com is unreachable")


def _probing_job(stack: Stack) -> Job:
    job = Job(
        job_id="r-probed",
        status=JobStatus.PROBING,
        scene_bucket=stack.settings.scenes_bucket,
        scene_key="scenes/shot.blend",
        scene_etag="etag",
        frames_spec="1-100",
        total=100,
        task_count=100,
        settings=RenderSettings(),
        output_bucket=stack.settings.outputs_bucket,
        output_prefix="outputs/r-probed/",
        requested_by="U0ARTIST",
        channel="C1",
        created_at=1_800_000_000.0,
        probe_frames=(1, 51, 100),
    )
    stack.jobs.create(job)
    return job


def test_a_probe_failed_job_is_told_once_on_a_stack_without_slack_however_often_redelivered(
    stack: Stack,
) -> None:
    job = _probing_job(stack)
    for _ in range(6):  # the first delivery and five re-sends of each probe task
        stack.reporter.frame_failed(job.job_id, 51, "Blender cannot find image `wood.png`")
        stack.reporter.frame_done(job.job_id, 1, 1.0, "out/1.png")
    said: list[str] = []
    notifier = StackNotifier(Services(stack.settings, jobs=stack.jobs, store=stack.store), None, said.append)
    bodies = [event.to_json() for event in stack.events()]
    for body in bodies + bodies:  # and the notifications queue delivering each twice
        assert notifier.handle(body, tries=1) is Told.DONE
    (told,) = said  # and no progress line for the frames counted after it stopped
    assert told.startswith("#renders ▸") and "r-probed" in told and "wood.png" in told


def test_a_notice_slack_will_not_take_is_kept_two_days_with_growing_waits_then_set_aside_once(
    stack: Stack,
) -> None:
    job = _probing_job(stack)
    stack.reporter.frame_failed(job.job_id, 51, "Blender cannot find image `wood.png`")
    (body,) = [event.to_json() for event in stack.events()]
    said: list[str] = []
    services = Services(stack.settings, jobs=stack.jobs, store=stack.store)
    notifier = StackNotifier(services, UnreachableSlack(), said.append)
    waits: list[int] = []
    while isinstance(outcome := notifier.handle(body, len(waits) + 1, "m-1"), int):
        waits.append(outcome)
    assert outcome is Told.SET_ASIDE
    assert waits[:4] == [FIRST_WAIT_S, 2 * FIRST_WAIT_S, 4 * FIRST_WAIT_S, 8 * FIRST_WAIT_S]
    assert max(waits) == LONGEST_WAIT_S and sum(waits) >= 24 * 3600
    assert sum(waits) == kept_for(len(waits) + 1, FIRST_WAIT_S) and sum(waits) < KEEP_FOR_S
    kept = [line for line in said if "kept, trying again" in line]
    gave_up = [line for line in said if "gave up" in line]
    assert len(kept) == 1 and len(gave_up) == 1 and "JobCompleted m-1" in gave_up[0]
    assert sum(line.startswith("#renders ▸") for line in said) == 1
