"""A job renders with the Blender its shot's manifest names: its tasks go to that version's class (`cpu-4.5`, 5.0's
keeps today's queues), the card says which Blender and warns when it is not the one that saved the shot."""

from __future__ import annotations

import json

import pytest

from backend.aws.s3 import ObjectInfo
from backend.commands import split_words
from backend.config import Settings
from backend.errors import ValidationError
from backend.render.grammar import parse_render
from backend.render.lanes import LaneQueues, LaneSettings, blender_class, queue_for, queue_suffix
from backend.render.manifest import FileEntry, Manifest, manifest_key_for
from backend.render.records import Job
from backend.render.tasks import RenderSettings, RenderTask
from bot.messages.job_facts import facts_lines
from entry.wiring import Services
from testing.jobs import InMemoryJobs, RecordingEvents, RecordingQueue
from testing.roster import InMemoryRoster

from .test_fanout import Clock, Guard, Scenes

CLASSES = ("cpu", "cpu-4.5")


class Shots(Scenes):
    """The scenes bucket with a shipped shot per name: `saved45/shot.blend` was saved by Blender 4.5, and so on."""

    def list_prefix(self, bucket: str, prefix: str) -> list[ObjectInfo]:
        return [ObjectInfo(key=prefix, etag="m-1", size=100)] if prefix.endswith(".manifest.json") else []

    def read(self, bucket: str, key: str) -> tuple[bytes, str]:
        digits = key.split("/")[-2].removeprefix("saved")  # `saved44` → `4.4`
        saved_by = f"{digits[0]}.{digits[1:]}"
        manifest = Manifest(
            scene="shot.blend", blender=saved_by, files={"shot.blend": FileEntry("ab" * 32, 10)}
        )
        return manifest.to_json().encode(), "m-1"


class VersionFarm:
    """The composition root with a recording queue per class of each Blender."""

    def __init__(self, blenders: tuple[str, ...] = ("4.5", "5.0")) -> None:
        self.clock = Clock()
        self.jobs = InMemoryJobs(self.clock)
        self.queues = {name: RecordingQueue() for name in CLASSES}
        lanes = LaneSettings(
            blenders=blenders, versioned={"cpu-4.5": {"normal": "q45"}} if "4.5" in blenders else {}
        )
        settings = Settings(
            scenes_bucket="scenes",
            outputs_bucket="outputs",
            table_name="jobs",
            gpu_queue_url="gpu",
            lanes=lanes,
        )
        roster = InMemoryRoster(self.clock)
        roster.seen("gpu", "node-1")  # a gpu job is taken only where a node can come
        versioned = {"cpu-4.5": {"normal": self.queues["cpu-4.5"]}} if "4.5" in blenders else {}
        self.services = Services(
            settings,
            clock=self.clock,
            jobs=self.jobs,
            queue=self.queues["cpu"],
            gpu_queue=RecordingQueue(),
            roster=roster,
            events=RecordingEvents(),
            guard=Guard(),
            store=Shots(),
            lanes=LaneQueues(versioned),
            gpu_nodes=None,
        )

    def submit(self, text: str) -> Job:
        submission = self.services.submissions.submit(
            parse_render(split_words(text)), requested_by="U0ARTIST", channel="C1", client_token=text
        )
        assert submission.job is not None
        return submission.job

    def queued(self, name: str) -> list[RenderTask]:
        return [RenderTask.from_json(body) for body in self.queues[name].bodies]


def test_the_shots_fake_names_the_saving_version_by_folder() -> None:
    text, _ = Shots().read("scenes", manifest_key_for("scenes/saved44/shot.blend"))
    assert json.loads(text)["blender"] == "4.4"


def test_a_45_shot_renders_in_45s_class_and_the_card_says_so() -> None:
    farm = VersionFarm()
    job = farm.submit("saved45/shot.blend 1-3")
    assert (job.settings.blender, job.settings.saved_by) == ("4.5", "4.5")
    assert [task.settings.blender for task in farm.queued("cpu-4.5")] == ["4.5"] * 3
    assert farm.queued("cpu") == []
    assert "🧊 Rendering with Blender 4.5" in facts_lines(job)


def test_a_44_shot_renders_in_45s_class_with_a_warning() -> None:
    farm = VersionFarm()
    job = farm.submit("saved44/shot.blend 1")
    assert job.settings.blender == "4.5" and len(farm.queued("cpu-4.5")) == 1
    assert "⚠️ Blender 4.5: saved by 4.4, rendered by 4.5" in facts_lines(job)


def test_a_50_shot_keeps_todays_queue_and_says_its_blender_on_a_two_version_farm() -> None:
    farm = VersionFarm()
    job = farm.submit("saved50/shot.blend 1-2")
    assert job.settings.blender == "5.0" and len(farm.queued("cpu")) == 2 and farm.queued("cpu-4.5") == []
    assert "🧊 Rendering with Blender 5.0" in facts_lines(job)


def test_a_shot_newer_than_the_farm_is_refused_naming_its_versions() -> None:
    with pytest.raises(ValidationError, match=r"saved by Blender 5\.1, newer than the farm's 4\.5 and 5\.0"):
        VersionFarm().submit("saved51/shot.blend 1")


def test_blender_overrides_for_a_job_and_the_card_warns() -> None:
    farm = VersionFarm()
    job = farm.submit("saved45/shot.blend 1 --blender 5.0")
    assert job.settings.blender == "5.0" and len(farm.queued("cpu")) == 1
    assert "⚠️ Blender 5.0: saved by 4.5, rendered by 5.0" in facts_lines(job)
    with pytest.raises(
        ValidationError, match=r"`--blender 4\.2`: this farm renders with Blender 4\.5 and 5\.0"
    ):
        farm.submit("saved45/shot.blend 1 --blender 4.2")


def test_a_one_version_farm_writes_its_jobs_as_before() -> None:
    farm = VersionFarm(blenders=("5.0",))
    job = farm.submit("saved50/shot.blend 1")
    assert job.settings.blender == "" and not any("Blender" in line for line in facts_lines(job))
    assert "blender" not in json.loads(farm.queues["cpu"].bodies[0])["settings"]
    older = farm.submit("saved45/shot.blend 1")  # the nearest newer: rendered, and said
    assert "⚠️ Blender 5.0: saved by 4.5, rendered by 5.0" in facts_lines(older)


def test_a_version_without_queues_is_never_sent_to_50s() -> None:
    with pytest.raises(RuntimeError, match=r"no queue for the `cpu-4\.5` class"):
        queue_for(LaneQueues({}), "cpu", "4.5", "normal", RecordingQueue())
    assert blender_class("gpu", "4.5") == "gpu-4.5" and blender_class("cpu", "5.0") == "cpu"
    assert (queue_suffix("4.5"), queue_suffix("5.0")) == ("-blender45", "")


def test_the_farms_blenders_and_their_queues_round_trip_through_the_environment() -> None:
    lanes = LaneSettings(blenders=("4.5", "5.0"), versioned={"cpu-4.5": {"normal": "q", "urgent": "u"}})
    assert LaneSettings.from_env(lanes.to_env()) == lanes
    assert LaneSettings.from_env({}).blenders == ("5.0",)


def test_blender_is_an_option_of_a_render() -> None:
    assert parse_render(split_words("shot.blend 1 --blender 4.5.15")).settings.blender == "4.5"
    assert RenderSettings.from_dict(RenderSettings(blender="4.5", saved_by="4.4").to_dict()).saved_by == "4.4"
    with pytest.raises(ValidationError, match=r"`--blender latest` is not a Blender version"):
        parse_render(split_words("shot.blend 1 --blender latest"))


def test_the_modal_offers_the_farms_blenders_only_where_it_runs_several() -> None:
    from bot.listeners.views.render_scene import _words
    from bot.messages.render_modal import SAVED_BY, render_modal

    def blocks(blenders: tuple[str, ...]) -> list[str]:
        return [
            block.get("block_id", "") for block in render_modal("F1", "a.blend", "C1", blenders)["blocks"]
        ]

    assert "blender" not in blocks(("5.0",)) and blocks(("4.5", "5.0"))[-1] == "blender"
    metadata = json.dumps({"file": "F1", "name": "a.blend", "channel": "C1"})

    def words(choice: str) -> list[str]:
        chosen = {"blender": {"value": {"selected_option": {"value": choice}}}}
        values = {"frames": {"value": {"value": "1-2"}}} | chosen
        return _words({"state": {"values": values}, "private_metadata": metadata})

    assert words("4.5") == ["a.blend", "1-2", "--blender", "4.5"]
    assert words(SAVED_BY) == ["a.blend", "1-2"]


def test_a_class_a_version_does_not_have_is_refused_before_anything_is_stored() -> None:
    farm = VersionFarm()
    with pytest.raises(ValidationError, match=r"no `gpu` class of Blender 4\.5, which renders `shot\.blend`"):
        farm.services.submissions.plan(parse_render(split_words("saved45/shot.blend 1 --on gpu")))
    assert farm.submit("saved50/shot.blend 1 --on gpu").settings.blender == "5.0"  # 5.0's gpu class is there
