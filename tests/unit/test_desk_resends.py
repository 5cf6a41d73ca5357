"""`/render` sent again, against the in-memory farm: Slack's retries by `trigger_id`, a person's by the same words."""

from __future__ import annotations

from backend.commands import split_words
from backend.render.desk import RESEND_HOLD_S, AlreadySent
from backend.render.grammar import parse_render
from backend.render.submit import Submission

from .test_fanout import ARTIST, OTHER, Farm

TEXT = "shot.blend 1-12"


def _send(farm: Farm, text: str = TEXT, trigger: str = "", by: str = ARTIST) -> Submission | AlreadySent:
    return farm.services.desk.submit_typed(parse_render(split_words(text)), by, "C1", text, trigger)


def _first(farm: Farm) -> str:
    first = _send(farm, trigger="trigger-1")
    assert isinstance(first, Submission) and first.created and first.job is not None
    return first.job.job_id


def test_a_slack_retry_hours_later_is_still_the_first_job() -> None:
    farm = Farm()
    job_id = _first(farm)
    farm.clock.now += 3 * 3600
    again = _send(farm, trigger="trigger-1")
    assert isinstance(again, AlreadySent) and again.job.job_id == job_id
    assert len(farm.queue.bodies) == 12


def test_the_same_words_are_held_for_ten_minutes_without_window_edges() -> None:
    farm = Farm()
    job_id = _first(farm)
    farm.clock.now += RESEND_HOLD_S  # the last second of the hold, wherever a clock window would have ended
    held = _send(farm, trigger="trigger-2")
    assert isinstance(held, AlreadySent) and held.job.job_id == job_id
    farm.clock.now += 1
    after = _send(farm, trigger="trigger-3")
    assert isinstance(after, Submission) and after.created and after.job is not None
    assert after.job.job_id != job_id and len(farm.queue.bodies) == 24


def test_the_same_words_without_a_trigger_are_held_too() -> None:
    farm = Farm()
    job_id = _first(farm)
    farm.clock.now += 5 * 60
    again = _send(farm, "shot.blend   1-12")
    assert isinstance(again, AlreadySent) and again.job.job_id == job_id


def test_another_person_or_other_words_are_another_job() -> None:
    farm = Farm()
    _first(farm)
    assert isinstance(_send(farm, by=OTHER, trigger="trigger-2"), Submission)
    assert isinstance(_send(farm, "shot.blend 1-12 --samples 16", trigger="trigger-3"), Submission)
    assert len(farm.queue.bodies) == 36


def test_a_cancelled_job_does_not_hold_its_words() -> None:
    farm = Farm()
    job_id = _first(farm)
    farm.services.desk.cancel(ARTIST, job_id)
    again = _send(farm, trigger="trigger-2")
    assert isinstance(again, Submission) and again.created


def test_a_dry_run_is_never_held() -> None:
    farm = Farm()
    _first(farm)
    dry = _send(farm, TEXT + " --dry-run", trigger="trigger-2")
    assert isinstance(dry, Submission) and dry.job is None
