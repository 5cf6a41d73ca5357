"""Fair by default: every render task carries its job as `MessageGroupId`, and the local queues serve a quiet
job's tasks before a noisy job's backlog, as SQS fair queues do (`local.embedded.moto_patches`)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from backend.aws.sqs import SqsQueue
from backend.commands import split_words
from backend.render.grammar import parse_render
from backend.render.records import Job
from backend.render.tasks import RenderTask
from blender_image.scene_cache import SceneCache
from blender_image.worker import RenderWorker
from local.embedded.poller import QueuePoller
from testing.renderer import PillowRenderer

from .conftest import Stack


def _task(job_id: str, frame: int) -> str:
    return json.dumps({"job_id": job_id, "frame": frame})


def _send(sqs: Any, url: str, job_id: str, frames: range) -> None:
    """Tasks of one job as the fan-out sends them: ten a batch, the job as their group."""
    for start in range(frames.start, frames.stop, 10):
        entries = [
            {"Id": str(frame), "MessageBody": _task(job_id, frame), "MessageGroupId": job_id}
            for frame in range(start, min(start + 10, frames.stop))
        ]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)


def _submit(stack: Stack, text: str) -> Job:
    submission = stack.service.submit(parse_render(split_words(text)), requested_by="U1", channel="C1")
    assert submission.job is not None
    return submission.job


def _receive(sqs: Any, url: str, count: int = 1) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=count, AttributeNames=["All"]
    ).get("Messages", [])
    return messages


def test_tasks_carry_their_job_as_message_group(stack: Stack) -> None:
    # GIVEN tasks of a job sent in batches
    SqsQueue(stack.settings.render_queue_url).send_all(
        [_task("job-a", frame) for frame in range(12)], group="job-a"
    )
    # THEN every message names its job as its group
    groups = []
    while messages := _receive(stack.sqs, stack.settings.render_queue_url, 10):
        groups += [message["Attributes"].get("MessageGroupId") for message in messages]
    assert groups == ["job-a"] * 12


def test_a_quiet_jobs_task_comes_before_a_noisy_jobs_backlog(stack: Stack) -> None:
    url = stack.settings.render_queue_url
    # GIVEN 50 tasks of a big job, then 3 of a small one, on a standard queue
    _send(stack.sqs, url, "big", range(50))
    _send(stack.sqs, url, "small", range(3))
    # AND the big job holds two tasks in flight
    in_flight = _receive(stack.sqs, url, 2)
    assert [json.loads(message["Body"])["job_id"] for message in in_flight] == ["big", "big"]
    # WHEN a worker asks for work
    # THEN it gets the small job's first task, not the big job's third
    assert [json.loads(message["Body"]) for message in _receive(stack.sqs, url)] == [
        {"job_id": "small", "frame": 0}
    ]
    # AND the small job's next, until it holds as many in flight as the big one
    assert json.loads(_receive(stack.sqs, url)[0]["Body"]) == {"job_id": "small", "frame": 1}
    # AND with two in flight each, the older backlog goes first (a tie)
    assert json.loads(_receive(stack.sqs, url)[0]["Body"]) == {"job_id": "big", "frame": 2}


def test_with_nothing_in_flight_every_group_ties_and_the_oldest_comes_first(stack: Stack) -> None:
    url = stack.settings.render_queue_url
    for job_id in ("a", "b", "a", "b"):
        stack.sqs.send_message(QueueUrl=url, MessageBody=_task(job_id, 0), MessageGroupId=job_id)
    bodies = [json.loads(message["Body"])["job_id"] for message in _receive(stack.sqs, url, 10)]
    assert bodies == ["a", "b", "a", "b"]


def test_messages_without_a_group_keep_their_order(stack: Stack) -> None:
    url = stack.settings.render_queue_url
    for frame in range(5):
        stack.sqs.send_message(QueueUrl=url, MessageBody=_task("plain", frame))
    frames = []
    while messages := _receive(stack.sqs, url, 2):
        frames += [json.loads(message["Body"])["frame"] for message in messages]
    assert frames == [0, 1, 2, 3, 4]


def test_a_small_job_behind_a_big_one_starts_before_a_tenth_of_the_big_one_more(stack: Stack) -> None:
    # GIVEN a 500-frame job queued, two workers on it, then a 10-frame job queued behind it
    url = stack.settings.render_queue_url
    _send(stack.sqs, url, "big", range(500))
    workers = [_receive(stack.sqs, url)[0], _receive(stack.sqs, url)[0]]
    _send(stack.sqs, url, "small", range(10))
    # WHEN the two workers take one task at a time, each finishing (deleting) before taking the next
    taken: list[str] = []
    turn = 0
    while len(taken) < 510 - 2:
        stack.sqs.delete_message(QueueUrl=url, ReceiptHandle=workers[turn]["ReceiptHandle"])
        received = _receive(stack.sqs, url)
        if not received:
            break
        workers[turn] = received[0]
        taken.append(json.loads(received[0]["Body"])["job_id"])
        turn = 1 - turn
    # THEN the small job's first frame is taken before the big job's next 10 % (50 frames)
    assert taken.index("small") < 50
    # AND the whole small job before them as well
    last_small = len(taken) - 1 - taken[::-1].index("small")
    assert taken[: last_small + 1].count("big") < 50


def test_at_two_workers_a_10_frame_job_behind_a_500_frame_one_starts_within_a_tenth_of_it(
    stack: Stack, tmp_path: Path
) -> None:
    # GIVEN a 500-frame job rendering on two local workers (the local event source, the Pillow stand-in renderer)
    stack.put_scene()
    big = _submit(stack, "shot.blend 1-500 --res 32x18")
    order: list[str] = []  # the job of each frame rendered, in order
    stop = threading.Event()

    def work(name: str) -> None:
        worker = RenderWorker(
            jobs=stack.jobs,
            reporter=stack.reporter,
            scenes=SceneCache(stack.store, tmp_path / name / "scenes"),
            renderer=PillowRenderer(),
            uploader=stack.store,
            work_dir=tmp_path / name,
        )

        def handler(event: dict[str, Any], context: Any) -> None:
            for record in event["Records"]:
                task = RenderTask.from_json(record["body"])
                worker.run(task)
                order.extend([task.job_id] * len(task.frames))

        poller = QueuePoller(stack.sqs, stack.settings.render_queue_url, handler, name, wait_s=0)
        while not stop.is_set():
            if not poller.poll_once():
                time.sleep(0.05)

    workers = [threading.Thread(target=work, args=(f"worker-{n}",), daemon=True) for n in (1, 2)]
    for thread in workers:
        thread.start()
    try:
        deadline = time.monotonic() + 60
        while order.count(big.job_id) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        # WHEN a 10-frame job is submitted behind it
        small = _submit(stack, "shot.blend 1-10 --res 32x18")
        big_before = order.count(big.job_id)
        assert big_before >= 20, "the big job never got going"
        while stack.jobs.get(small.job_id).done < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in workers:
            thread.join(30)
    # THEN its first frame comes before the big job's next 10 % (50 frames), and all of it not long after
    first_small = order.index(small.job_id)
    assert order[:first_small].count(big.job_id) - big_before < 50, order
    assert stack.jobs.get(small.job_id).done == 10
    last_small = len(order) - 1 - order[::-1].index(small.job_id)
    assert order[: last_small + 1].count(big.job_id) - big_before < 50, order
