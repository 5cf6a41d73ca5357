"""`/render hold|resume|priority`: the words, who may, what each refuses in one sentence, and what is queued again."""

from __future__ import annotations

import json
import re

import pytest

from backend.budgets.stopping import BUDGET_GUARD, STOP_AND_CANCEL, STOP_AND_FINISH, FarmStopper, Stopped
from backend.commands import Caller, Refused, split_words
from backend.errors import ConflictError, NotFoundError, ValidationError
from backend.people import mention
from backend.render.desk_replies import Held, Reprioritised, Resumed
from backend.render.grammar import JobCommand, parse_command, render_subcommand
from backend.render.records import JobStatus, Priority
from backend.render.tasks import RenderTask
from bot.messages.render import job_card
from bot.messages.render_replies import steered_text
from tests.unit.test_fanout import ADMIN, ARTIST, OTHER, Farm

LEAD = ADMIN


def _run(farm: Farm, text: str, user: str = ARTIST) -> object:
    return farm.services.desk.run(parse_command(split_words(text)), Caller(user, "C1"))


def test_the_three_subcommands_are_parsed_with_their_job_and_level() -> None:
    assert parse_command(["hold", "r1"]) == JobCommand("hold", "r1")
    assert parse_command(["resume", "r1"]) == JobCommand("resume", "r1")
    assert parse_command(["priority", "r1", "URGENT"]) == JobCommand(
        "priority", "r1", priority=Priority.URGENT
    )
    assert render_subcommand(["Hold", "r1"]) == "hold"  # the ack answers mistakes without AWS


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("hold", "Say which job to hold"),
        ("resume r1 r2", "Say which job to resume"),
        ("priority r1", "Say which job and which priority"),
        ("priority r1 high", "`high` is not a priority: say urgent, normal or low"),
    ],
)
def test_words_missing_or_wrong_are_one_sentence_with_the_usage(text: str, said: str) -> None:
    with pytest.raises(ValidationError, match=said):
        parse_command(split_words(text))


def test_only_its_submitter_or_an_admin_may_hold_resume_or_reprioritise_a_job() -> None:
    farm = Farm()
    job = farm.submit("shot.blend 1-12")
    for text in (f"hold {job.job_id}", f"resume {job.job_id}", f"priority {job.job_id} urgent"):
        refused = _run(farm, text, user=OTHER)
        verb = text.split()[0].replace("priority", "re-prioritise")
        assert refused == Refused(
            f"Only {mention(ARTIST)} (who submitted `{job.job_id}`) or an admin can {verb} it."
        )
    assert farm.jobs.get(job.job_id).status is JobStatus.QUEUED  # nothing changed
    held = _run(farm, f"hold {job.job_id}", user=LEAD)  # an admin may
    assert isinstance(held, Held) and held.job.held_by == LEAD


def test_an_unknown_job_and_a_job_held_or_not_held_already_are_refused_in_one_sentence() -> None:
    farm = Farm()
    job = farm.submit("shot.blend 1-12")
    with pytest.raises(
        NotFoundError, match=re.escape("There is no render job `rnope`: `/render list` shows recent jobs.")
    ):
        _run(farm, "hold rnope")
    with pytest.raises(
        ConflictError, match=rf"`{job.job_id}` is not held \(it is queued\): nothing to resume."
    ):
        _run(farm, f"resume {job.job_id}")
    _run(farm, f"hold {job.job_id}")
    with pytest.raises(
        ConflictError, match=f"held already: `/render resume {job.job_id}` takes it on again."
    ):
        _run(farm, f"hold {job.job_id}")
    _run(farm, f"cancel {job.job_id}")
    with pytest.raises(
        ConflictError, match=re.escape("is cancelled: only a queued or rendering job can be held.")
    ):
        _run(farm, f"hold {job.job_id}")
    with pytest.raises(ConflictError, match=re.escape("is cancelled: its priority can no longer change.")):
        _run(farm, f"priority {job.job_id} low")


def test_resume_queues_exactly_the_frames_not_yet_rendered_as_a_new_generation() -> None:
    farm = Farm()
    job = farm.submit("shot.blend 1-12 --chunk 4")
    _run(farm, f"hold {job.job_id}")
    farm.services.reporter.frame_done(job.job_id, 1, 1.0, "out/1.png")  # in hand at the hold: it counts
    farm.services.reporter.frame_failed(job.job_id, 6, "missing texture")
    sent = len(farm.queue.batches)
    resumed = _run(farm, f"resume {job.job_id}")
    assert isinstance(resumed, Resumed) and resumed.frames == 10
    assert resumed.job.status is JobStatus.QUEUED and resumed.job.generation == 2
    again = [json.loads(body) for batch in farm.queue.batches[sent:] for body in batch]
    assert [body["frames"] for body in again] == [[2, 3, 4, 5], [7, 8, 9, 10], [11, 12]]  # chunked as before
    assert {body["generation"] for body in again} == {2}
    assert farm.queue.groups[-1] == job.job_id
    assert steered_text(resumed) == f"▶️ `{job.job_id}` resumed: 10 frames not yet rendered queued again."


def test_a_held_jobs_card_and_status_say_who_holds_it() -> None:
    farm = Farm()
    job = farm.submit("shot.blend 1-12")
    held = _run(farm, f"hold {job.job_id}", user=LEAD)
    assert isinstance(held, Held)
    text, blocks = job_card(held.job, farm.clock())
    line = f"⏸ held by <@{LEAD}>: no new frames start until `/render resume {job.job_id}`"
    assert text.startswith("⏸ Held") and line in json.dumps(blocks, ensure_ascii=False)
    assert steered_text(held).startswith(line)


def test_a_new_priority_queues_the_frames_not_yet_rendered_again_and_a_held_jobs_waits_for_resume() -> None:
    farm = Farm()
    job = farm.submit("shot.blend 1-6")
    farm.services.reporter.frame_done(job.job_id, 1, 1.0, "out/1.png")
    sent = len(farm.queue.bodies)
    urgent = _run(farm, f"priority {job.job_id} urgent")
    assert isinstance(urgent, Reprioritised) and (urgent.frames, urgent.job.priority) == (5, Priority.URGENT)
    assert [json.loads(body)["generation"] for body in farm.queue.bodies[sent:]] == [1] * 5
    with pytest.raises(ConflictError, match=re.escape("is urgent already: nothing to change.")):
        _run(farm, f"priority {job.job_id} urgent")
    _run(farm, f"hold {job.job_id}")
    sent = len(farm.queue.bodies)
    low = _run(farm, f"priority {job.job_id} low")
    assert (
        isinstance(low, Reprioritised) and low.frames == 0 and len(farm.queue.bodies) == sent
    )  # held: nothing
    assert low.job.generation == 3  # what was sent before is dropped all the same
    resumed = _run(farm, f"resume {job.job_id}")
    assert isinstance(resumed, Resumed) and resumed.frames == 5 and resumed.job.priority is Priority.LOW


def test_the_budget_guard_holds_or_cancels_the_jobs_still_going_and_only_an_admin_resumes_its_holds() -> None:
    farm = Farm()
    last_month = farm.submit("shot.blend 1-6", token="t0")  # still rendering at the month's turn
    farm.clock.now += 40 * 86400
    queued, waiting = farm.submit("shot.blend 1-6", token="t1"), farm.submit("shot.blend 1-3", token="t2")
    farm.services.reporter.cancel(waiting.job_id)
    stopper = FarmStopper(STOP_AND_FINISH, farm.jobs, farm.services.reporter, farm.clock)
    stopped = stopper.stop()
    assert stopped == Stopped(STOP_AND_FINISH, (last_month.job_id, queued.job_id), ())
    assert stopper.stop() == stopped  # a notification delivered again lists them again, holding nothing twice
    assert farm.jobs.get(queued.job_id).held_by == BUDGET_GUARD
    refused = _run(farm, f"resume {queued.job_id}")  # its submitter
    assert refused == Refused(f"`{queued.job_id}` was held by the budget guard: only an admin can resume it.")
    assert isinstance(_run(farm, f"resume {queued.job_id}", user=ADMIN), Resumed)
    cancelling = FarmStopper(STOP_AND_CANCEL, farm.jobs, farm.services.reporter, farm.clock)
    assert cancelling.stop() == Stopped(STOP_AND_CANCEL, (), (last_month.job_id, queued.job_id))
    assert FarmStopper("ask", farm.jobs, farm.services.reporter, farm.clock).stop() == Stopped()


def test_frames_the_queue_refuses_on_resume_leave_the_job_held_to_resume_again() -> None:
    farm = Farm()
    job = farm.submit("shot.blend 1-6")
    _run(farm, f"hold {job.job_id}", user=LEAD)
    sent = farm.queue.send_all

    def refuse(bodies: object, group: str) -> None:
        raise RuntimeError("SQS is down")

    farm.queue.send_all = refuse  # type: ignore[method-assign]
    with pytest.raises(
        ConflictError, match=re.escape(f"it is held, and `/render resume {job.job_id}` queues")
    ):
        _run(farm, f"resume {job.job_id}")
    assert (farm.jobs.get(job.job_id).status, farm.jobs.get(job.job_id).held_by) == (JobStatus.HELD, LEAD)
    farm.queue.send_all = sent  # type: ignore[method-assign]
    resumed = _run(farm, f"resume {job.job_id}", user=LEAD)
    assert isinstance(resumed, Resumed) and resumed.frames == 6


def test_a_task_carries_its_generation_and_one_sent_before_generations_reads_as_the_first() -> None:
    farm = Farm()
    job = farm.submit("shot.blend 1-2")
    (first, *_) = [RenderTask.from_json(body) for body in farm.queue.bodies]
    assert first.generation == 0 and RenderTask.from_json(first.to_json()) == first
    older = json.loads(first.to_json())
    del older["generation"]  # queued by a worker image from before hold and resume
    assert RenderTask.from_json(json.dumps(older)).generation == 0
    _run(farm, f"hold {job.job_id}")
    _run(farm, f"resume {job.job_id}")
    assert RenderTask.from_json(farm.queue.bodies[-1]).generation == 2
