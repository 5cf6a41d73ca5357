"""Priorities at submission: `--priority urgent|normal|low`, each job's tasks sent to its class's lane, the card
saying a priority that is not normal, and which lanes the render function may take (`backend.render.lanes`)."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from backend.commands import split_words
from backend.config import Settings
from backend.errors import ValidationError
from backend.render.grammar import parse_command, parse_render
from backend.render.lanes import (
    EventSource,
    LaneQueues,
    LaneScheduler,
    LaneSettings,
    open_lanes,
    receive_in_order,
)
from backend.render.records import Job, JobStatus, Priority
from backend.render.tasks import RenderTask
from bot.messages import render
from bot.messages.job_facts import facts_lines
from entry.wiring import Services
from testing.jobs import InMemoryJobs, RecordingEvents, RecordingQueue
from testing.roster import InMemoryRoster

from .test_fanout import Clock, Guard, Scenes


@pytest.mark.parametrize(
    ("words", "priority"),
    [
        ("shot.blend 1-10", Priority.NORMAL),
        ("shot.blend 1-10 --priority urgent", Priority.URGENT),
        ("shot.blend 1-10 --priority=LOW", Priority.LOW),
        ("shot.blend 1-10 --priority Normal --res 64x36", Priority.NORMAL),
    ],
)
def test_priority_is_a_flag_of_a_render(words: str, priority: Priority) -> None:
    assert parse_render(split_words(words)).priority is priority


@pytest.mark.parametrize("value", ["high", "1", "urgentest", "''"])
def test_a_wrong_priority_is_one_sentence_naming_the_three(value: str) -> None:
    with pytest.raises(ValidationError) as refusal:
        parse_command(split_words(f"shot.blend 1-10 --priority {value}"))
    said = str(refusal.value)
    assert "`urgent`, `normal` or `low`" in said and said.count(". ") == 0 and said.endswith(".")


def test_priority_without_a_value_asks_for_one() -> None:
    with pytest.raises(ValidationError, match="`--priority` needs a value"):
        parse_render(split_words("shot.blend 1-10 --priority"))


class Balancer:
    """Counts the rebalances the fan-out asked for."""

    def __init__(self) -> None:
        self.calls = 0

    def balance(self) -> dict[str, bool]:
        self.calls += 1
        return {}


class LaneFarm:
    """The composition root with in-memory parts and a recording queue per class and lane."""

    def __init__(self) -> None:
        self.clock = Clock()
        self.jobs = InMemoryJobs(self.clock)
        self.lanes = {
            render_class: {lane: RecordingQueue() for lane in ("urgent", "normal", "low")}
            for render_class in ("cpu", "gpu")
        }
        self.balancer = Balancer()
        roster = InMemoryRoster(self.clock)
        roster.seen("gpu", "node-1")  # a gpu job is taken only where a node can come
        settings = Settings(
            scenes_bucket="scenes", outputs_bucket="outputs", table_name="jobs", gpu_queue_url="gpu"
        )
        self.services = Services(
            settings,
            clock=self.clock,
            jobs=self.jobs,
            queue=self.lanes["cpu"]["normal"],
            gpu_queue=self.lanes["gpu"]["normal"],
            events=RecordingEvents(),
            guard=Guard(),
            store=Scenes(),
            roster=roster,
            lanes=LaneQueues(  # the classes' queues are their normal lanes
                {name: {lane: self.lanes[name][lane] for lane in ("urgent", "low")} for name in self.lanes},
                self.balancer,
            ),
            gpu_nodes=None,
        )

    def submit(self, text: str, token: str) -> Job:
        submission = self.services.submissions.submit(
            parse_render(split_words(text)), requested_by="U0ARTIST", channel="C1", client_token=token
        )
        assert submission.job is not None
        return submission.job

    def jobs_in(self, render_class: str, lane: str) -> list[str]:
        return [RenderTask.from_json(body).job_id for body in self.lanes[render_class][lane].bodies]


def test_fanout_sends_each_job_to_its_lane_batched_with_its_job_as_group() -> None:
    farm = LaneFarm()
    urgent = farm.submit("shot.blend 1-12 --priority urgent", "t1")
    normal = farm.submit("shot.blend 1-5", "t2")
    low = farm.submit("shot.blend 1-3 --priority low", "t3")
    gpu_urgent = farm.submit("shot.blend 1-2 --on gpu --priority urgent", "t4")
    assert (urgent.priority, normal.priority, low.priority) == (
        Priority.URGENT,
        Priority.NORMAL,
        Priority.LOW,
    )
    assert farm.jobs.get(urgent.job_id).priority is Priority.URGENT  # stored with the job
    assert farm.jobs_in("cpu", "urgent") == [urgent.job_id] * 12
    assert farm.jobs_in("cpu", "normal") == [normal.job_id] * 5
    assert farm.jobs_in("cpu", "low") == [low.job_id] * 3
    assert farm.jobs_in("gpu", "urgent") == [gpu_urgent.job_id] * 2
    assert farm.jobs_in("gpu", "normal") == [] and farm.jobs_in("gpu", "low") == []
    # one send per phase, its job as its group: fan-out stays batched and fair within a lane
    assert farm.lanes["cpu"]["urgent"].groups == [urgent.job_id]
    # the render function's lanes are rebalanced after urgent or normal work is queued, not after low or gpu work
    assert farm.balancer.calls == 2


def test_a_lane_not_deployed_sends_to_its_class_queue() -> None:
    normal, low = RecordingQueue(), RecordingQueue()
    lanes = LaneQueues({"cpu": {"low": low}})
    assert lanes.queue("cpu", "urgent", normal) is normal and lanes.queue("gpu", "low", normal) is normal
    assert lanes.queue("cpu", "low", normal) is low


def test_lanes_are_read_from_the_settings_in_order() -> None:
    env = LaneSettings(render_urgent_url="u", render_low_url="l", gpu_low_url="gl").to_env()
    settings = Settings.from_env({**env, "STUDIOBOT_RENDER_QUEUE_URL": "n", "STUDIOBOT_GPU_QUEUE_URL": "gn"})
    assert list(settings.lanes.urls(settings.render_queue_url, gpu=False).items()) == [
        ("urgent", "u"),
        ("normal", "n"),
        ("low", "l"),
    ]
    assert list(settings.lanes.urls(settings.gpu_queue_url, gpu=True).values()) == ["gn", "gl"]
    assert Settings.from_env(settings.to_env()).lanes == settings.lanes


@pytest.mark.parametrize(
    ("held", "open_"),
    [
        ([0, 0, 0], [True, True, True]),
        ([3, 40, 9], [True, False, False]),
        ([0, 40, 9], [True, True, False]),
        ([0, 0, 9], [True, True, True]),
        ([1, 0, 0], [True, False, False]),  # one urgent frame in flight still holds the lanes below
    ],
)
def test_a_lane_is_open_only_while_every_lane_above_is_empty(held: list[int], open_: list[bool]) -> None:
    assert open_lanes(held) == open_


class Lanes:
    """SQS's receive over named in-memory lanes: what each receive asked for, in order."""

    def __init__(self, **lanes: list[str]) -> None:
        self.lanes = lanes
        self.asked: list[tuple[str, int]] = []

    def receive_message(self, QueueUrl: str, WaitTimeSeconds: int, **options: object) -> dict[str, object]:
        self.asked.append((QueueUrl, WaitTimeSeconds))
        bodies: Sequence[str] = self.lanes[QueueUrl]
        return {"Messages": [{"Body": bodies[0]}]} if bodies else {}


def test_a_receive_takes_the_highest_lane_with_work_with_short_polls_above_the_last() -> None:
    sqs = Lanes(urgent=[], normal=["n1"], low=["l1"])
    assert receive_in_order(sqs, ["urgent", "normal", "low"], 5) == ("normal", [{"Body": "n1"}])
    assert sqs.asked == [("urgent", 0), ("normal", 0)]
    idle = Lanes(urgent=[], normal=[], low=[])
    assert receive_in_order(idle, ["urgent", "normal", "low"], 5) == ("", [])
    # every lane asked once, then one long poll when idle: of the normal lane, where new work mostly comes
    assert idle.asked == [("urgent", 0), ("normal", 0), ("low", 0), ("normal", 5)]


class Arriving(Lanes):
    """Lanes whose normal lane is empty until a long poll waits on it (a job submitted while the farm is idle)."""

    def receive_message(self, QueueUrl: str, WaitTimeSeconds: int, **options: object) -> dict[str, object]:
        if QueueUrl == "normal" and WaitTimeSeconds:
            self.lanes["normal"] = ["n1"]
        return super().receive_message(QueueUrl, WaitTimeSeconds, **options)


def test_an_idle_worker_takes_a_normal_task_the_moment_it_is_queued_not_after_its_wait() -> None:
    sqs = Arriving(urgent=[], normal=[], low=[])
    assert receive_in_order(sqs, ["urgent", "normal", "low"], 5) == ("normal", [{"Body": "n1"}])
    one = Lanes(dead=[])  # a single queue (the dead letters' pollers): one long poll of it, nothing before
    assert receive_in_order(one, ["dead"], 1) == ("", []) and one.asked == [("dead", 1)]


def test_the_card_and_status_say_a_priority_that_is_not_normal() -> None:
    job = Job(
        job_id="r1a2b3c4d5",
        status=JobStatus.RUNNING,
        scene_bucket="scenes",
        scene_key="scenes/shot.blend",
        scene_etag="e",
        frames_spec="1-3",
        total=3,
        task_count=3,
        settings=parse_render(["shot.blend", "1-3"]).settings,
        output_bucket="outputs",
        output_prefix="outputs/r1a2b3c4d5/",
        requested_by="U0ARTIST",
        channel="C1",
        created_at=1_800_000_000.0,
    )
    assert facts_lines(job) == []
    for priority, fact in ((Priority.URGENT, "🔺 urgent"), (Priority.LOW, "🔻 low")):
        marked = Job(**{**job.__dict__, "priority": priority})
        assert facts_lines(marked) == [fact]
        _, card = render.job_card(marked, 1_800_000_010.0)
        assert fact in json.dumps(card, ensure_ascii=False)


class Depths:
    """What each lane holds, by URL; its ARN is the URL's name."""

    def __init__(self, **held: int) -> None:
        self.held_by = held

    def held(self, queue_url: str) -> tuple[str, int]:
        return f"arn:{queue_url}", self.held_by[queue_url]


class Sources:
    """A function's event sources; switching one in `busy` fails as Lambda does while it is updating it."""

    def __init__(self, states: dict[str, str], busy: frozenset[str] = frozenset()) -> None:
        self.states = states  # lane URL → state
        self.busy = busy
        self.switched: list[tuple[str, str, bool]] = []

    def of(self, function: str) -> list[EventSource]:
        return [EventSource(f"uuid-{url}", f"arn:{url}", state) for url, state in self.states.items()]

    def switch(self, function: str, uuid: str, enabled: bool) -> None:
        url = uuid.removeprefix("uuid-")
        if url in self.busy:
            raise RuntimeError("ResourceInUseException")
        self.switched.append((function, url, enabled))
        self.states[url] = "Enabled" if enabled else "Disabled"


URLS = {"urgent": "urgent", "normal": "normal", "low": "low"}


def test_the_scheduler_switches_only_the_sources_whose_state_is_wrong() -> None:
    sources = Sources({"urgent": "Enabled", "normal": "Enabled", "low": "Disabling", "other": "Enabled"})
    scheduler = LaneScheduler(Depths(urgent=2, normal=5, low=1), sources, "render", URLS)
    assert scheduler.balance() == {
        "normal": False
    }  # low is being disabled already; another queue is left alone
    assert sources.switched == [("render", "normal", False)]
    scheduler.depths = Depths(urgent=0, normal=5, low=1)
    assert scheduler.balance() == {"normal": True}
    scheduler.depths = Depths(urgent=0, normal=0, low=1)
    assert scheduler.balance() == {"low": True}
    assert scheduler.balance() == {}


def test_a_source_lambda_is_changing_is_left_to_the_next_run_and_a_fanout_never_fails_for_it() -> None:
    sources = Sources(
        {"urgent": "Enabled", "normal": "Updating", "low": "Enabled"}, busy=frozenset({"normal"})
    )
    scheduler = LaneScheduler(Depths(urgent=1, normal=0, low=0), sources, "render", URLS)
    assert scheduler.balance() == {"low": False}
    queue = RecordingQueue()
    lanes = LaneQueues({"cpu": {"urgent": queue}}, scheduler)
    lanes.queue("cpu", "urgent", RecordingQueue()).send_all(["task"], group="job-1")
    assert queue.groups == ["job-1"]  # queued; the lane not switched is logged, not raised

    class Broken:
        def balance(self) -> dict[str, bool]:
            raise ConnectionError("Lambda unreachable")

    LaneQueues({"cpu": {}}, Broken()).queue("cpu", "normal", queue).send_all(["task"], group="job-2")
    assert queue.groups == ["job-1", "job-2"]
