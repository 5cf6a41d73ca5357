"""`/render` sent again, against the in-memory farm: Slack's retries by `trigger_id`, a person's by the same words."""

from __future__ import annotations

from backend.aws.s3 import ObjectInfo
from backend.commands import split_words
from backend.render.desk import RESEND_HOLD_S, AlreadySent
from backend.render.grammar import parse_render
from backend.render.manifest import FileEntry, Manifest
from backend.render.records import JobStatus
from backend.render.submit import Submission

from .test_fanout import ARTIST, OTHER, Farm, Scenes

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


class ShippedShot(Scenes):
    """The scenes bucket holding one shipped shot whose scene and manifest the test re-ships."""

    def __init__(self) -> None:
        self.scene_etag, self.manifest_etag, self.texture = "scene-1", "manifest-1", "a" * 64

    def head(self, bucket: str, key: str) -> ObjectInfo:
        return ObjectInfo(key=key, etag=self.scene_etag, size=1024)

    def list_prefix(self, bucket: str, prefix: str) -> list[ObjectInfo]:
        return [ObjectInfo(key=prefix, etag=self.manifest_etag, size=100)] if prefix.endswith(".json") else []

    def read(self, bucket: str, key: str) -> tuple[bytes, str]:
        files = {"shot.blend": FileEntry("b" * 64, 1024), "textures/wood.png": FileEntry(self.texture, 10)}
        return Manifest("shot.blend", "5.0", files).to_json().encode(), self.manifest_etag


def _shipped(farm: Farm) -> ShippedShot:
    shot = ShippedShot()
    farm.services.submissions.scenes = shot
    return shot


def test_a_changed_scene_within_the_hold_is_a_new_job() -> None:
    farm = Farm()
    shot = _shipped(farm)
    job_id = _first(farm)
    farm.clock.now += 2 * 60
    shot.scene_etag = "scene-2"  # the shot fixed and shipped again

    again = _send(farm, trigger="trigger-2")

    assert isinstance(again, Submission) and again.created and again.job is not None
    assert again.job.job_id != job_id and again.job.scene_etag == "scene-2"
    assert len(farm.queue.bodies) == 24


def test_a_changed_manifest_of_the_same_scene_is_a_new_job() -> None:
    farm = Farm()
    shot = _shipped(farm)
    job_id = _first(farm)
    shot.texture, shot.manifest_etag = "c" * 64, "manifest-2"  # only a texture changed

    again = _send(farm, trigger="trigger-2")

    assert isinstance(again, Submission) and again.job is not None and again.job.job_id != job_id
    assert again.job.manifest_etag == "manifest-2"


def test_the_unchanged_shot_is_held_while_its_job_renders() -> None:
    farm = Farm()
    _shipped(farm)
    job_id = _first(farm)
    farm.jobs.start(job_id)  # a worker took its first frame
    farm.services.reporter.frame_done(job_id, 1, 5.0, "out/1.png", 5.0)
    assert farm.jobs.get(job_id).status is JobStatus.RUNNING

    held = _send(farm, trigger="trigger-2")

    assert isinstance(held, AlreadySent) and held.job.job_id == job_id
    assert len(farm.queue.bodies) == 12


def test_the_same_words_after_the_job_finished_render_again() -> None:
    farm = Farm()
    job_id = _first(farm)
    for frame in range(1, 13):
        farm.services.reporter.frame_done(job_id, frame, 5.0, f"out/{frame}.png", 5.0)
    assert farm.jobs.get(job_id).status is JobStatus.DONE
    farm.clock.now += 60

    again = _send(farm, trigger="trigger-2")

    assert isinstance(again, Submission) and again.created and again.job is not None
    assert again.job.job_id != job_id and len(farm.queue.bodies) == 24
