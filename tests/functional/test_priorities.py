"""Priorities on the local stack: a class's lanes (urgent, normal, low) are taken strictly in order at every receive
by the stack's workers and render nodes; on AWS the render function's event sources are switched by what the lanes
hold (`backend.render.lanes.LaneScheduler`, against moto's Lambda and SQS)."""

from __future__ import annotations

import dataclasses
import io
import json
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest

from backend.commands import split_words
from backend.render.grammar import parse_render
from backend.render.records import Job
from backend.render.store.roster import NodeRoster
from backend.render.tasks import RenderTask
from blender_image.node import RenderNode
from blender_image.scene_cache import SceneCache
from blender_image.worker import RenderWorker
from entry.expiry import sweep
from entry.wiring import Services
from local.embedded.poller import LocalContext, QueuePoller, lambda_record
from testing.renderer import PillowRenderer

from .conftest import Bot, Stack


def _submit(services: Services, text: str) -> Job:
    submission = services.submissions.submit(parse_render(split_words(text)), requested_by="U1", channel="C1")
    assert submission.job is not None
    return submission.job


def _lanes(stack: Stack) -> list[str]:
    settings = stack.settings
    return list(settings.lanes.urls(settings.render_queue_url, gpu=False).values())


def test_the_local_stack_deploys_an_urgent_and_a_low_lane_per_class(stack: Stack) -> None:
    settings = stack.settings
    assert [url.rsplit("-", 1)[-1] for url in _lanes(stack)] == ["urgent", "render", "low"]
    gpu = list(settings.lanes.urls(settings.gpu_queue_url, gpu=True).values())
    assert [url.rsplit("/", 1)[-1] for url in gpu] == [
        f"{stack.info.stack_name}-render-gpu-urgent",
        f"{stack.info.stack_name}-render-gpu",
        f"{stack.info.stack_name}-render-gpu-low",
    ]
    for url in [*_lanes(stack), *gpu]:  # the same redrive as the normal lane: failures reach the dead letters
        attributes = stack.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])[
            "Attributes"
        ]
        assert "dlq" in attributes["RedrivePolicy"]


def test_at_two_workers_urgent_frames_go_before_any_further_normal_frame_and_low_ones_last(
    stack: Stack, tmp_path: Path
) -> None:
    # GIVEN a 60-frame normal job rendering on two local workers that poll the lanes in order
    stack.put_scene()
    services = Services(stack.settings, store=stack.store, jobs=stack.jobs, queue=stack.queue)
    normal = _submit(services, "shot.blend 1-60 --res 32x18")
    taken: list[str] = []  # the job of each task as a worker takes it, in order
    lock = threading.Lock()
    stop = threading.Event()

    def work(name: str) -> None:
        worker = RenderWorker(
            jobs=stack.jobs,
            reporter=services.reporter,
            scenes=SceneCache(stack.store, tmp_path / name / "scenes"),
            renderer=PillowRenderer(),
            uploader=stack.store,
            work_dir=tmp_path / name,
        )

        def handler(event: dict[str, Any], context: Any) -> None:
            for record in event["Records"]:
                task = RenderTask.from_json(record["body"])
                with lock:
                    taken.extend([task.job_id] * len(task.frames))
                worker.run(task)

        poller = QueuePoller(stack.sqs, _lanes(stack), handler, name, wait_s=0)
        while not stop.is_set():
            if not poller.poll_once():
                time.sleep(0.05)

    workers = [threading.Thread(target=work, args=(f"worker-{n}",), daemon=True) for n in (1, 2)]
    for thread in workers:
        thread.start()
    try:
        deadline = time.monotonic() + 120
        while taken.count(normal.job_id) < 10 and time.monotonic() < deadline:
            time.sleep(0.02)
        # WHEN a low job, then an urgent one, are submitted behind its backlog
        low = _submit(services, "shot.blend 1-5 --res 32x18 --priority low")
        with lock:
            before = len(taken)
        urgent = _submit(services, "shot.blend 1-10 --res 32x18 --priority urgent")
        with lock:
            queued = len(taken)  # its tasks are on the urgent lane by now
        assert taken.count(normal.job_id) < 50, "the normal job finished before the urgent one came"
        jobs = (normal, low, urgent)
        while (
            any(stack.jobs.get(job.job_id).done < job.total for job in jobs) and time.monotonic() < deadline
        ):
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in workers:
            thread.join(30)
    assert [stack.jobs.get(job.job_id).done for job in jobs] == [60, 5, 10]
    # THEN every urgent frame is taken before any further normal frame: once its tasks were queued, only the
    # receives each worker had begun by then (one a worker) take a normal frame first
    last_urgent = len(taken) - 1 - taken[::-1].index(urgent.job_id)
    assert taken[before : last_urgent + 1].count(urgent.job_id) == 10
    assert taken[queued : last_urgent + 1].count(normal.job_id) <= 2, taken[before:]
    # AND the low job's frames only once both other lanes were empty: after every other frame was taken
    first_low = taken.index(low.job_id)
    assert set(taken[first_low:]) == {low.job_id}, taken


def _render_function(stack: Stack) -> str:
    """The render Lambda as deployed on AWS, with an SQS event source per lane; only the urgent lane's starts off,
    as if no fan-out had switched it yet (moto would try to run the function for a message sent to an enabled
    source, and nothing here may invoke it)."""
    function = f"{stack.info.stack_name}-render"
    role = boto3.client("iam").create_role(RoleName="render", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("entry.py", "def handler(event, context):\n    return {}\n")
    lambda_ = boto3.client("lambda")
    lambda_.create_function(
        FunctionName=function,
        Runtime="python3.13",
        Role=role,
        Handler="entry.handler",
        Code={"ZipFile": code.getvalue()},
    )
    for lane, url in stack.settings.lanes.urls(stack.settings.render_queue_url, gpu=False).items():
        arn = stack.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        lambda_.create_event_source_mapping(
            EventSourceArn=arn, FunctionName=function, BatchSize=1, Enabled=lane != "urgent"
        )
    return function


def _sources(stack: Stack, function: str) -> dict[str, str]:
    """Lane → the state of its event source."""
    names = {url.rsplit("/", 1)[-1]: lane for lane, url in _lanes_by_name(stack).items()}
    mappings = boto3.client("lambda").list_event_source_mappings(FunctionName=function)["EventSourceMappings"]
    return {names[mapping["EventSourceArn"].rsplit(":", 1)[-1]]: mapping["State"] for mapping in mappings}


def _lanes_by_name(stack: Stack) -> dict[str, str]:
    return stack.settings.lanes.urls(stack.settings.render_queue_url, gpu=False)


def _take_all(stack: Stack, url: str, delete: bool = True) -> int:
    taken = 0
    while messages := stack.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        taken += len(messages)
        for message in messages if delete else ():
            stack.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return taken


def test_the_render_functions_lanes_are_switched_by_what_the_lanes_above_hold(stack: Stack) -> None:
    # GIVEN the render Lambda with an event source per lane, and services that switch them (as on AWS)
    stack.put_scene()
    function = _render_function(stack)
    lanes = dataclasses.replace(stack.settings.lanes, render_function=function)
    services = Services(dataclasses.replace(stack.settings, lanes=lanes), store=stack.store, jobs=stack.jobs)
    urls = _lanes_by_name(stack)
    # WHEN an urgent job is fanned out
    _submit(services, "shot.blend 1-10 --res 32x18 --priority urgent")
    # THEN right after it, the normal and low lanes' sources are off and the urgent one's on
    assert _sources(stack, function) == {"urgent": "Enabled", "normal": "Disabled", "low": "Disabled"}
    # AND a normal and a low job queued meanwhile change nothing while an urgent task waits
    _submit(services, "shot.blend 1-4 --res 32x18")
    _submit(services, "shot.blend 1-3 --res 32x18 --priority low")
    assert sweep(services)["lanes_switched"] == {}
    # AND urgent tasks in flight still hold the lanes below
    assert _take_all(stack, urls["urgent"], delete=False) == 10
    assert sweep(services)["lanes_switched"] == {}
    assert _sources(stack, function)["normal"] == "Disabled"
    # WHEN the urgent lane empties, the sweep turns the normal lane on, and the low one stays off behind it
    stack.sqs.purge_queue(QueueUrl=urls["urgent"])
    assert sweep(services)["lanes_switched"] == {"normal": True}
    assert _sources(stack, function) == {"urgent": "Enabled", "normal": "Enabled", "low": "Disabled"}
    # AND once the normal lane is empty too, the low lane's turn comes
    assert _take_all(stack, urls["normal"]) == 4
    assert sweep(services)["lanes_switched"] == {"low": True}
    assert _sources(stack, function) == {"urgent": "Enabled", "normal": "Enabled", "low": "Enabled"}


def test_a_render_node_takes_its_classs_lanes_in_order(stack: Stack, tmp_path: Path) -> None:
    # GIVEN a low, a normal and an urgent gpu job queued in that order, a node running
    stack.put_scene()
    services = Services(stack.settings, store=stack.store, jobs=stack.jobs)
    NodeRoster(stack.settings.table_name).seen("gpu", "gpu-node-1")
    jobs = [
        _submit(services, f"shot.blend 1-{count} --res 32x18 --on gpu --priority {priority}")
        for priority, count in (("low", 2), ("normal", 3), ("urgent", 2))
    ]
    order: list[str] = []

    class Recording(RenderWorker):
        def run(self, task: RenderTask, *args: Any, **kwargs: Any) -> Any:
            order.append(task.job_id)
            return super().run(task, *args, **kwargs)

    worker = Recording(
        jobs=stack.jobs,
        reporter=services.reporter,
        scenes=SceneCache(stack.store, tmp_path / "scenes"),
        renderer=PillowRenderer(),
        uploader=stack.store,
        work_dir=tmp_path,
    )
    lanes = list(stack.settings.lanes.urls(stack.settings.gpu_queue_url, gpu=True).values())
    node = RenderNode(
        stack.sqs, lanes, worker, stack.jobs, services.events, name="gpu-node-1", render_class="gpu",
        idle_exit_s=0, wait_s=0,
    )  # fmt: skip
    # WHEN it renders until the lanes are empty
    assert node.run() == 7
    # THEN it took every urgent task first, then the normal ones, the low ones last
    low, normal, urgent = (job.job_id for job in jobs)
    assert order == [urgent] * 2 + [normal] * 3 + [low] * 2
    assert all(stack.jobs.get(job.job_id).done == job.total for job in jobs)


def test_slack_takes_a_priority_sends_the_job_to_its_lane_and_the_card_says_it(bot: Bot) -> None:
    # GIVEN a shot; WHEN `/render … --priority urgent` (the bot's role sends to the urgent lane: IAM-checked)
    bot.stack.put_scene()
    response = bot.command("shot.blend 1-4 --res 64x36 --priority urgent")
    assert response.status == 200
    (card,) = bot.slack.wait_for("chat.postMessage")
    # THEN its card says so, and its tasks wait in the urgent lane, none in the normal one
    assert "🔺 urgent" in json.dumps(card.args["blocks"], ensure_ascii=False)
    assert len(bot.stack.queued_bodies(_lanes(bot.stack)[0])) == 4
    assert bot.stack.queued_bodies() == []


def test_a_wrong_priority_is_refused_in_one_sentence_naming_the_three(bot: Bot) -> None:
    response = bot.command("shot.blend 1-4 --priority high")
    said = json.loads(response.body)["text"]
    assert said == "`--priority high` is not a priority: use `urgent`, `normal` or `low`."
    time.sleep(0.2)
    assert bot.slack.calls_to("chat.postMessage") == []


def test_a_dead_chunks_untried_frames_go_back_to_its_jobs_lane(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an urgent job of one 3-frame chunk, whose task died on every delivery (the dead-letter function's view)
    from entry.dead_letters import handler

    for name, value in stack.info.environ().items():
        monkeypatch.setenv(name, value)
    stack.put_scene()
    services = Services(stack.settings, store=stack.store, jobs=stack.jobs, queue=stack.queue)
    job = _submit(services, "shot.blend 1-3 --res 32x18 --chunk 3 --priority urgent")
    urgent = _lanes(stack)[0]
    (body,) = stack.queued_bodies(urgent)
    arn = stack.sqs.get_queue_attributes(QueueUrl=stack.info.render_dlq_url, AttributeNames=["QueueArn"])
    message = {"MessageId": "m-1", "ReceiptHandle": "r-1", "Body": body, "Attributes": {}}
    event = {"Records": [lambda_record(message, arn["Attributes"]["QueueArn"])]}
    # WHEN the dead-letter function buries it
    assert handler(event, LocalContext("dlq")) == {"batchItemFailures": []}
    # THEN its never-tried frames are tried again one by one, in the urgent lane, not the normal one
    again = [RenderTask.from_json(body) for body in stack.queued_bodies(urgent)]
    assert [(task.job_id, task.frames) for task in again] == [(job.job_id, (frame,)) for frame in (1, 2, 3)]
    assert stack.queued_bodies() == []
