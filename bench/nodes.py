"""Render nodes benchmark: a node's cost per frame against the render Lambda's handler on the same frames of the
sample scene (real bpy, in-process moto), and how soon a Spot notice gives a node's task back to the queue.

Overhead: 24 frames at 160×90, 8 samples, through both paths in one warm process sharing one worker (a node builds
the handler's), after an untimed warm-up; frame by frame they alternate which goes first (node, handler, handler,
node…) so neither gets the quiet moments of a noisy 2-core machine. The node's time is its loop (receive, render
beside its heartbeat thread, delete, and an empty receive that ends each run here); the handler's is its invocation,
what Lambda bills (receive and delete happen outside it). Blender's seconds, as the worker records them, split both.

Hand-back: a node mid-frame (a long render) with a fake IMDSv2 on 127.0.0.1 polled every 5 s, as in production; the
notice goes up just after a poll (the worst case), then half-way. Measured: notice to drain (detection), and drain
to the task being receivable by another consumer (hand-back).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3

from backend.commands import split_words
from backend.render.grammar import parse_render
from blender_image.node import RenderNode
from blender_image.spot import POLL_S, SpotWatch
from blender_image.worker import RenderWorker
from entry import render as handler
from entry import wiring
from entry.wiring import Services
from local.embedded.poller import LocalContext, lambda_record

FRAMES = 24  # the sample scene's
FAST = "--res 160x90 --samples 8 --engine CYCLES"
SLOW = "--res 640x360 --samples 512 --engine CYCLES"  # about 24 s here; a trial needs up to two polls (10 s)
NOTICE_AFTER_POLL_S = (0.1, 2.5)  # just after a poll (detection takes the whole interval), then half-way
OVERHEAD_TARGET = 1.05
HAND_BACK_TARGET_S = 5.5  # the production poll interval, plus half a second for IMDS and SQS
TOKEN = "X-aws-ec2-metadata-token"


class Dying:
    """A node's `exit`, noted instead of done (the benchmark lives on), around the worker's renderer: Blender cannot
    stop, so the frame in hand renders out, then dies with the process instead of being recorded."""

    def __init__(self, renderer: Any) -> None:
        self.renderer = renderer
        self.codes: list[int] = []
        self.started = threading.Event()

    def __call__(self, code: int) -> None:
        self.codes.append(code)

    def render(self, *args: Any, **kwargs: Any) -> Path:
        self.started.set()
        written: Path = self.renderer.render(*args, **kwargs)
        if self.codes:  # in production `exit` is os._exit: nothing after it runs
            raise SystemExit(self.codes[0])
        return written

    def __getattr__(self, name: str) -> Any:  # `measure`, `cut`, `device`: the real renderer's
        return getattr(self.renderer, name)


class FakeImds(BaseHTTPRequestHandler):
    """EC2's instance metadata, IMDSv2: a token, then `spot/instance-action`, 404 until a notice is set."""

    notice = ""

    def do_PUT(self) -> None:  # the session token
        self._answer(200, "bench-token")

    def do_GET(self) -> None:
        asked = self.path.endswith("/spot/instance-action") and self.headers.get(TOKEN) == "bench-token"
        self._answer(200 if asked and self.notice else 404, self.notice if asked else "")

    def _answer(self, status: int, body: str) -> None:
        self.send_response(status)
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: Any) -> None:
        pass


def _bodies(sqs: Any, url: str) -> list[str]:
    """A queue's task messages taken off it, by frame (they go back one at a time)."""
    bodies: list[str] = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return sorted(bodies, key=lambda body: json.loads(body)["frames"][0])


class Bench:
    """The stack, the shared worker, and the two ways a task reaches it."""

    def __init__(self, settings: Any, work: Path) -> None:
        self.services = Services(settings)
        self.sqs = boto3.client("sqs")
        self.render_url, self.gpu_url = settings.render_queue_url, settings.gpu_queue_url
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.render_url, AttributeNames=["QueueArn"])
        self.queue_arn = attributes["Attributes"]["QueueArn"]
        self.worker = wiring.render_worker()  # what `python -m entry.node` renders with: the handler's own
        self.node = self._node(self.worker, "bench-node", exit=lambda code: None)  # never drained here
        self.work = work

    def _node(self, worker: RenderWorker, name: str, exit: Callable[[int], None]) -> RenderNode:
        """A node on the gpu queue that leaves as soon as the queue is empty."""
        return RenderNode(
            self.sqs, self.gpu_url, worker, self.services.jobs, self.services.events,
            name=name, render_class="gpu", idle_exit_s=0.0, wait_s=0, exit=exit,
        )  # fmt: skip

    def submit(self, text: str) -> str:
        """Submit a job from its `/render` words; its id."""
        request = parse_render(split_words(text))
        self.services.roster.seen("gpu", "bench-node")  # as `python -m entry.node` says it is there
        job = self.services.submissions.submit(request, requested_by="U0BENCH", channel="C0BENCH").job
        assert job is not None
        return job.job_id

    def through_node(self, body: str | None) -> float:
        """Seconds of the node's loop over one task, or none (it leaves at the empty receive that follows)."""
        if body is not None:
            self.sqs.send_message(QueueUrl=self.gpu_url, MessageBody=body)
        before, started = self.node.rendered, time.perf_counter()
        self.node.run()
        seconds = time.perf_counter() - started
        assert self.node.rendered == before + (body is not None), "the node did not render the task"
        return seconds

    def through_handler(self, body: str) -> tuple[float, float]:
        """Seconds in the handler, and in the receive and delete the local poller adds around it."""
        self.sqs.send_message(QueueUrl=self.render_url, MessageBody=body)
        started = time.perf_counter()
        message = self.sqs.receive_message(QueueUrl=self.render_url, MaxNumberOfMessages=1)["Messages"][0]
        event = {"Records": [lambda_record(message, self.queue_arn)]}
        invoked = time.perf_counter()
        response = handler.handler(event, LocalContext("render"))  # type: ignore[arg-type]
        returned = time.perf_counter()
        assert response == {"batchItemFailures": []}, response
        self.sqs.delete_message(QueueUrl=self.render_url, ReceiptHandle=message["ReceiptHandle"])
        return returned - invoked, (invoked - started) + (time.perf_counter() - returned)

    def overhead(self) -> dict[str, Any]:
        """The same frames through both paths, alternating which goes first (node, handler, handler, node…)."""
        for flag in ("--on gpu", ""):  # warm-up, untimed: the scene downloaded and opened, the GPU looked for
            self.submit(f"turntable.blend 1 {FAST} {flag}")
        self.through_node(_bodies(self.sqs, self.gpu_url)[0])
        self.through_handler(_bodies(self.sqs, self.render_url)[0])
        node_job = self.submit(f"turntable.blend 1-{FRAMES} {FAST} --on gpu")
        handler_job = self.submit(f"turntable.blend 1-{FRAMES} {FAST}")
        node_bodies, handler_bodies = _bodies(self.sqs, self.gpu_url), _bodies(self.sqs, self.render_url)
        node_s = handler_s = sqs_s = 0.0
        for index in range(FRAMES):
            node_first = (index + 1) // 2 % 2 == 0
            if node_first:
                node_s += self.through_node(node_bodies[index])
            in_handler, around = self.through_handler(handler_bodies[index])
            handler_s, sqs_s = handler_s + in_handler, sqs_s + around
            if not node_first:
                node_s += self.through_node(node_bodies[index])
        # Blender's own seconds, as the worker recorded them; the rest is each path's glue.
        node_render = sum(record.seconds for record in self.services.jobs.frames(node_job))
        handler_render = sum(record.seconds for record in self.services.jobs.frames(handler_job))
        render = (node_render + handler_render) / 2
        node_glue, handler_glue = node_s - node_render, handler_s - handler_render
        ms = 1000 / FRAMES
        empty = [self.through_node(None) for _ in range(5)]  # what ends each run here: an empty receive
        return {
            "frames": FRAMES,
            "settings": FAST,
            "node_s_per_frame": round(node_s / FRAMES, 4),
            "handler_s_per_frame": round(handler_s / FRAMES, 4),
            "overhead_ratio": round(node_s / handler_s, 3),
            "overhead_ratio_target": OVERHEAD_TARGET,
            # [node, handler]
            "render_s_per_frame": [round(node_render / FRAMES, 4), round(handler_render / FRAMES, 4)],
            "glue_ms_per_frame": [round(node_glue * ms, 1), round(handler_glue * ms, 1)],
            # The ratio had both paths' renders taken the same time: Blender's noise on 2 cores taken out.
            "overhead_ratio_same_renders": round((render + node_glue) / (render + handler_glue), 3),
            "poller_sqs_ms_per_frame": round(sqs_s * ms, 1),
            "node_empty_receive_ms": round(sorted(empty)[2] * 1000, 1),  # in the node's glue, once per frame
            "devices": [self.services.jobs.get(job).device for job in (node_job, handler_job)],
        }

    def hand_back(self, imds: str, after_poll_s: float) -> dict[str, Any]:
        """A node mid-frame gets a Spot notice `after_poll_s` after one of its polls: how soon its task is back."""
        self.submit(f"turntable.blend 1 {SLOW} --on gpu")
        dying = Dying(self.worker.renderer)
        worker = RenderWorker(
            jobs=self.services.jobs, reporter=self.services.reporter, scenes=self.worker.scenes, renderer=dying,
            uploader=self.services.store, work_dir=self.work, exit=dying,
        )  # fmt: skip
        node = self._node(worker, "bench-spot", exit=dying)
        polls: list[float] = []
        times: dict[str, float] = {}

        class Watch(SpotWatch):
            def check(self) -> float | None:
                polls.append(time.monotonic())  # so the notice can go up just after a poll
                deadline = super().check()
                if deadline is not None:
                    times["drain"] = time.monotonic()  # the drain starts now
                return deadline

        looker = boto3.client("sqs")  # made here: boto3 does not make clients safely in parallel
        notice = threading.Thread(target=self._notice, args=(dying, polls, after_poll_s, looker, times))
        FakeImds.notice = ""
        watch = Watch(lambda deadline: node.drain(deadline, "Spot"), imds, poll_s=POLL_S).start()
        notice.start()
        with contextlib.suppress(SystemExit):
            node.run()  # here, not in a thread: bpy renders on the main thread, as on a node
        watch.stop()
        notice.join()
        _bodies(self.sqs, self.gpu_url)  # the handed-back task: another node's now, not the next trial's
        trial: dict[str, Any] = {"notice_after_poll_s": after_poll_s, "exits": dying.codes}
        if not dying.codes or "receivable" not in times:  # the frame ended before the notice was seen
            return {**trial, "handed_back": False}
        return {
            **trial,
            "handed_back": True,
            "detection_s": round(times["drain"] - times["notice"], 3),
            "hand_back_s": round(times["receivable"] - times["drain"], 3),
            "notice_to_receivable_s": round(times["receivable"] - times["notice"], 3),
        }

    def _notice(
        self, dying: Dying, polls: list[float], after: float, sqs: Any, times: dict[str, float]
    ) -> None:
        """Once the frame renders: put the notice up `after` the watch's next poll, then wait for the task."""
        dying.started.wait(60)
        seen = len(polls)
        while len(polls) == seen:
            time.sleep(0.01)
        time.sleep(max(0.0, polls[-1] + after - time.monotonic()))
        when = datetime.fromtimestamp(time.time() + 120, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        FakeImds.notice = json.dumps({"action": "terminate", "time": when})  # two minutes, as EC2 gives
        times["notice"] = time.monotonic()
        while time.monotonic() - times["notice"] < 30:
            if sqs.receive_message(QueueUrl=self.gpu_url, VisibilityTimeout=0).get("Messages"):
                times["receivable"] = time.monotonic()
                return
            time.sleep(0.02)


def run() -> dict[str, Any]:
    """Measure the overhead and the hand-back; return nodes.json."""
    from moto import mock_aws

    from bench.render import build_scene
    from local.embedded import moto_patches
    from local.embedded.stack import deploy

    moto_patches.apply()
    for name in ("studiobot-render", "studiobot-node"):  # a line per frame otherwise
        logging.getLogger(name).setLevel(logging.WARNING)
    saved = dict(os.environ)
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeImds)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    imds = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        os.environ.pop("AWS_ENDPOINT_URL", None)  # in-process moto: no earlier benchmark's server answers
        os.environ.update(AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x")
        with tempfile.TemporaryDirectory(prefix="studiobot-bench-nodes-") as tmp, mock_aws():
            work = Path(tmp)
            scene = build_scene(work)
            info = deploy(None, stack_name="studiobot-bench-nodes")
            settings = info.settings(work_dir=str(work / "worker"))
            os.environ.update(settings.to_env())  # the handler's worker reads its settings from here
            wiring.render_worker.cache_clear()
            key = f"{settings.scenes_prefix}turntable.blend"
            boto3.client("s3").put_object(Bucket=settings.scenes_bucket, Key=key, Body=scene.read_bytes())
            bench = Bench(settings, work / "spot")
            result = bench.overhead()
            trials = [bench.hand_back(imds, after) for after in NOTICE_AFTER_POLL_S]
    finally:
        wiring.render_worker.cache_clear()
        server.shutdown()
        os.environ.clear()
        os.environ.update(saved)
    handed = [trial["notice_to_receivable_s"] for trial in trials if trial["handed_back"]]
    result["spot"] = {
        "poll_s": POLL_S,
        "frame": SLOW,
        "trials": trials,
        "notice_to_receivable_s_max": max(handed) if len(handed) == len(trials) else None,
        "target_s": HAND_BACK_TARGET_S,
    }
    return result
