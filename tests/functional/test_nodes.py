"""Render nodes on the `gpu` class's queue (moto SQS): a job end to end with the CPU fallback said on its card; a Spot
notice (a fake IMDSv2 on 127.0.0.1) and a SIGTERM mid-frame hand the task back within 5 s, another node finishes it,
and nothing is counted twice."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from backend.commands import split_words
from backend.errors import ValidationError
from backend.events import NodeReclaimed
from backend.render.grammar import parse_render
from backend.render.records import JobStatus
from backend.render.store.roster import NodeRoster
from backend.render.tasks import RenderTask
from blender_image.node import RenderNode, on_sigterm
from blender_image.scene_cache import SceneCache
from blender_image.spot import SpotWatch
from blender_image.worker import RenderWorker
from bot.messages import message_text
from bot.messages.render import job_card
from entry.wiring import Services
from testing.renderer import PillowRenderer

from .conftest import Stack

FALLBACK = "CPU (no GPU device found on this node)"


class Killed(BaseException):
    """The node's process is gone (it exited after handing its task back)."""


class Exits:
    """Where a node would exit its process (Blender cannot stop a render): noted, and its render dies with it."""

    def __init__(self) -> None:
        self.codes: list[int] = []

    def __call__(self, code: int) -> None:
        self.codes.append(code)


class NodeRenderer(PillowRenderer):
    """What a node without a GPU renders with: real pictures, the CPU named; frames can be made slow."""

    def __init__(self, seconds: float = 0.0, exits: Exits | None = None) -> None:
        super().__init__()
        self.device = FALLBACK
        self.seconds = seconds
        self.exits = exits
        self.started = threading.Event()

    def render(self, *args: Any, **kwargs: Any) -> Path:
        self.started.set()
        until = time.monotonic() + self.seconds
        while time.monotonic() < until:
            if self.exits is not None and self.exits.codes:
                raise Killed  # the process exited mid-render: nothing recorded, nothing deleted
            time.sleep(0.05)
        return super().render(*args, **kwargs)


def _node(
    stack: Stack, folder: Path, renderer: NodeRenderer, name: str, exits: Exits | None = None
) -> RenderNode:
    services = Services(stack.settings, store=stack.store, jobs=stack.jobs)
    worker = RenderWorker(
        jobs=stack.jobs,
        reporter=stack.reporter,
        scenes=SceneCache(stack.store, folder / "scenes"),
        renderer=renderer,
        uploader=stack.store,
        work_dir=folder,
    )
    return RenderNode(
        stack.sqs,
        stack.settings.gpu_queue_url,
        worker,
        stack.jobs,
        services.events,
        name=name,
        render_class="gpu",
        idle_exit_s=1.0,
        visibility_s=60,
        wait_s=0,
        exit=exits or Exits(),
    )


def _submit(stack: Stack, text: str):  # type: ignore[no-untyped-def]
    stack.put_scene()
    NodeRoster(stack.settings.table_name).seen("gpu", "gpu-node-1")  # a node has joined: a gpu job is taken
    job = stack.service.submit(parse_render(split_words(text)), requested_by="U1", channel="C1").job
    assert job is not None
    return job


def test_a_gpu_job_goes_to_the_nodes_queue_and_a_node_renders_it_saying_it_fell_back_to_cpu(
    stack: Stack, tmp_path: Path
) -> None:
    job = _submit(stack, "shot.blend 1-4 --res 32x18 --on gpu")
    assert stack.queued_bodies() == []  # nothing on the render Lambda's queue
    renderer = NodeRenderer()
    assert _node(stack, tmp_path, renderer, "gpu-node-1").run() == 4
    done = stack.jobs.get(job.job_id)
    assert (done.status, done.done, done.device) == (JobStatus.DONE, 4, FALLBACK)
    assert sorted(renderer.rendered) == [1, 2, 3, 4]
    _, blocks = job_card(done, time.time())
    assert "⚠️ Asked for a GPU (`--on gpu`), rendered on the CPU (no GPU device found on this node)" in str(
        blocks
    )
    assert stack.queued_bodies(stack.settings.gpu_queue_url) == []


def test_a_deployment_without_gpu_nodes_refuses_a_gpu_job_saying_what_works(stack: Stack) -> None:
    stack.put_scene()
    service = Services(
        stack.settings.__class__(**{**stack.settings.__dict__, "gpu_queue_url": ""})
    ).submissions
    with pytest.raises(
        ValidationError, match="This deployment has no GPU render nodes: leave out `--on gpu`"
    ):
        service.submit(parse_render(split_words("shot.blend 1 --on gpu")), requested_by="U1")


class FakeImds(BaseHTTPRequestHandler):
    """EC2's instance metadata, IMDSv2: a token first; `spot/instance-action` is 404 until a notice is set."""

    notice: dict[str, str] | None = None
    token = "token-123"

    def do_PUT(self) -> None:
        ok = self.path == "/latest/api/token" and "X-aws-ec2-metadata-token-ttl-seconds" in self.headers
        self._answer(200 if ok else 400, self.token if ok else "")

    def do_GET(self) -> None:
        if self.headers.get("X-aws-ec2-metadata-token") != self.token:
            self._answer(401, "")
        elif self.path == "/latest/meta-data/spot/instance-action" and FakeImds.notice is not None:
            self._answer(200, json.dumps(FakeImds.notice))
        else:
            self._answer(404, "")

    def _answer(self, status: int, body: str) -> None:
        self.send_response(status)
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def imds() -> Iterator[str]:
    FakeImds.notice = None
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeImds)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _visible_again(stack: Stack, since: float) -> float:
    """Seconds until the handed-back task can be received by another node (at most 10 s)."""
    while time.monotonic() - since < 10:
        messages = stack.sqs.receive_message(
            QueueUrl=stack.settings.gpu_queue_url, MaxNumberOfMessages=1, VisibilityTimeout=0
        ).get("Messages", [])
        if messages:
            return time.monotonic() - since
        time.sleep(0.05)
    return float("inf")


def _until_killed(node: RenderNode) -> None:
    with contextlib.suppress(Killed):
        node.run()


def _exited(exits: Exits) -> list[int]:
    """The exit the node makes right after handing back (and telling the channel)."""
    deadline = time.monotonic() + 5
    while not exits.codes and time.monotonic() < deadline:
        time.sleep(0.02)
    return exits.codes


def _drained_and_finished(
    stack: Stack, tmp_path: Path, job_id: str, slow: NodeRenderer, node: RenderNode
) -> None:
    """The second node finishes the job, and the frame counts once."""
    other = NodeRenderer()
    _node(stack, tmp_path / "other", other, "gpu-node-2").run()
    deadline = time.monotonic() + 10
    while stack.jobs.get(job_id).status is not JobStatus.DONE and time.monotonic() < deadline:
        time.sleep(0.1)
    done = stack.jobs.get(job_id)
    assert (done.status, done.done, done.failed) == (JobStatus.DONE, 1, 0)  # one frame, counted once
    assert other.rendered == [7]
    reclaimed = [event for event in stack.events() if isinstance(event, NodeReclaimed)]
    assert len(reclaimed) == 1 and reclaimed[0].frames == [7] and reclaimed[0].node == node.name


def test_a_spot_notice_mid_frame_hands_the_task_back_within_five_seconds(
    stack: Stack, tmp_path: Path, imds: str
) -> None:
    job = _submit(stack, "shot.blend 7 --res 32x18 --on gpu")
    exits = Exits()
    slow = NodeRenderer(seconds=6.0, exits=exits)
    node = _node(stack, tmp_path / "spot", slow, "gpu-node-spot", exits)
    watch = SpotWatch(lambda deadline: node.drain(deadline, "Spot"), imds, poll_s=0.2).start()
    running = threading.Thread(target=_until_killed, args=(node,), daemon=True)
    running.start()
    assert slow.started.wait(10)
    when = datetime.fromtimestamp(time.time() + 120, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    FakeImds.notice = {"action": "terminate", "time": when}
    noticed = time.monotonic()
    assert _visible_again(stack, noticed) < 5.0  # no frame estimate here: it cannot know it would finish
    assert _exited(exits) == [143]
    watch.stop()
    said = message_text(next(e for e in stack.events() if isinstance(e, NodeReclaimed)))
    assert (
        said
        == f"⚡ GPU node `gpu-node-spot` reclaimed by Spot: frame 7 of `{job.job_id}` handed back; another node takes it now."
    )
    running.join(timeout=15)
    _drained_and_finished(stack, tmp_path, job.job_id, slow, node)


def test_sigterm_mid_frame_hands_the_task_back_at_once(stack: Stack, tmp_path: Path) -> None:
    job = _submit(stack, "shot.blend 7 --res 32x18 --on gpu")
    exits = Exits()
    slow = NodeRenderer(seconds=6.0, exits=exits)
    node = _node(stack, tmp_path / "term", slow, "gpu-node-term", exits)
    kept = signal.getsignal(signal.SIGTERM)
    try:
        on_sigterm(node, grace_s=2.0)  # less than the frame needs: hand back
        running = threading.Thread(target=_until_killed, args=(node,), daemon=True)
        running.start()
        assert slow.started.wait(10)
        told = time.monotonic()
        os.kill(os.getpid(), signal.SIGTERM)
        assert _visible_again(stack, told) < 5.0
        assert _exited(exits) == [143]
        running.join(timeout=15)
    finally:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGTERM, kept)
    _drained_and_finished(stack, tmp_path, job.job_id, slow, node)


def test_a_node_with_time_to_finish_its_frame_finishes_it_and_takes_no_more(
    stack: Stack, tmp_path: Path
) -> None:
    _submit(stack, "shot.blend 1-3 --res 32x18 --on gpu")
    slow, exits = NodeRenderer(seconds=1.0), Exits()
    node = _node(stack, tmp_path / "calm", slow, "gpu-node-calm", exits)
    node.jobs = _Estimating(stack.jobs, render_s=1.0)  # type: ignore[assignment]
    running = threading.Thread(target=node.run, daemon=True)
    running.start()
    assert slow.started.wait(10)
    node.drain(time.time() + 120, "Spot")  # two minutes: plenty for a one-second frame
    running.join(timeout=15)
    assert exits.codes == [] and len(slow.rendered) == 1  # finished the frame in hand, took no other
    assert len(stack.queued_bodies(stack.settings.gpu_queue_url)) == 2


class _Estimating:
    """The job store, with the probes' estimate a job of more frames would have."""

    def __init__(self, jobs: Any, render_s: float) -> None:
        self.jobs, self.render_s = jobs, render_s

    def get(self, job_id: str) -> Any:
        from dataclasses import replace

        from backend.render.estimates import Estimate

        return replace(self.jobs.get(job_id), estimate=Estimate(self.render_s, self.render_s, 0.0, 0.0))


def test_the_task_contract_carries_the_render_class() -> None:
    task = RenderTask.from_json(
        json.dumps(
            {
                "version": 1, "job_id": "r1", "task_index": 0, "scene_bucket": "b", "scene_key": "k",
                "scene_etag": "e", "frames": [1], "settings": {"render_class": "gpu"}, "output_bucket": "o",
                "output_prefix": "p/",
            }
        )
    )  # fmt: skip
    assert task.settings.render_class == "gpu"
    assert RenderTask.from_json(task.to_json()) == task


class Launches:
    """AWS Batch as the fan-out sees it: the nodes asked for, per job."""

    def __init__(self) -> None:
        self.asked: list[tuple[int, str]] = []

    def launch(self, count: int, job_id: str) -> str | None:
        self.asked.append((count, job_id))
        return f"batch-{len(self.asked)}"


class FlatPrice:
    def per_second(self, instance_type: str) -> float:
        assert instance_type == "g5.xlarge"
        return 0.36 / 3600  # a Spot g5.xlarge


def test_each_gpu_phase_starts_its_nodes_and_the_estimate_is_priced_per_node_second(
    stack: Stack, tmp_path: Path
) -> None:
    launches = Launches()
    services = Services(
        stack.settings, store=stack.store, jobs=stack.jobs, gpu_nodes=launches, gpu_prices=FlatPrice()
    )
    stack.put_scene()
    request = parse_render(split_words("shot.blend 1-60 --res 32x18 --on gpu"))
    job = services.submissions.submit(request, requested_by="U1", channel="C1").job
    assert job is not None and launches.asked == [(3, job.job_id)]  # the three probes: a node each
    node = _node(stack, tmp_path, NodeRenderer(), "gpu-node-1")
    node.worker.reporter = services.reporter  # the fan-out that launches nodes follows the probes
    for _ in range(3):
        node.run()
        if stack.jobs.get(job.job_id).estimate is not None:
            break
    estimated = stack.jobs.get(job.job_id)
    assert estimated.estimate is not None
    assert estimated.estimate.cost_usd == pytest.approx(
        estimated.estimate.frame_s * 60 * 0.36 / 3600, abs=1e-6
    )
    assert launches.asked[-1] == (16, job.job_id)  # the other 57 frames: at most 16 nodes
