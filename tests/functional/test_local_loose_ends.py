"""Loose ends of the local stack: a node dies with its stack, the bot server lets idle connections go and keeps its
threads few, a stitch killed after its claim is taken over by the retry, and incomplete uploads are aborted."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import blender_image.tiling
from backend.commands import split_words
from backend.config import ENV_AWS_ENDPOINT_URL, ENV_LOCAL_VISIBILITY_TIMEOUT, ENV_WORK_DIR
from backend.render.grammar import parse_render
from backend.render.records import JobStatus
from backend.render.tasks import RenderTask
from blender_image.scene_cache import SceneCache
from blender_image.worker import RenderWorker
from entry import render as render_handler
from entry import wiring
from local.embedded import slack_http
from local.embedded.poller import QueuePoller
from local.embedded.stack import REPO_ROOT, RESOURCES_TEMPLATE
from testing.renderer import PillowRenderer
from testing.slack import signed_headers, slash_command_body
from tests.functional.conftest import SECRET, Bot, Stack

# A stack-like parent: the supervisor's own spawning code starts a render node on a stack whose AWS is not there,
# where a node retries its receive with back-off for ever.
NODE_PARENT = """
import os, socket, sys, time
from local.embedded.stack import StackInfo
from local.embedded.supervisor import Supervisor

with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    endpoint = f"http://127.0.0.1:{probe.getsockname()[1]}"
queue = f"{endpoint}/123456789012/gpu"
info = StackInfo(endpoint, "gone", "scenes", "outputs", "jobs", queue, queue, "arn:aws:sns:us-east-1:1:e", queue,
                 queue, queue)
supervisor = Supervisor(0, sys.stdout, nodes=1)
supervisor.env = {**os.environ, **info.environ()}
supervisor._spawn("node-1", "node")
print(supervisor.children["node-1"].pid, flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by init) counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


@pytest.mark.slow
@pytest.mark.bpy
def test_a_node_exits_within_seconds_when_its_stack_is_killed(tmp_path: Path) -> None:
    # GIVEN a stack-like parent whose render node is up (Blender warm) and retrying a receive that cannot succeed
    home = tmp_path / ".studiobot"
    env = {**os.environ, "STUDIOBOT_HOME": str(home)}
    env.pop("AWS_ENDPOINT_URL", None)
    parent = subprocess.Popen(
        [sys.executable, "-c", NODE_PARENT], env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True
    )
    node = 0
    try:
        assert parent.stdout is not None
        node = int(parent.stdout.readline())
        deadline = time.monotonic() + 90
        log = home / "node-1.log"
        while "ready node" not in (log.read_text() if log.exists() else "") and time.monotonic() < deadline:
            assert _alive(node), log.read_text()
            time.sleep(0.2)

        # WHEN the parent is killed (kill -9: no goodbye)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)

        # THEN the node is gone within a few seconds
        deadline = time.monotonic() + 5
        while _alive(node) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(node), f"the node (pid {node}) still runs 5 s after its stack was killed"
    finally:
        if parent.poll() is None:
            parent.kill()
        if node and _alive(node):
            os.kill(node, signal.SIGKILL)


IDLE_SOCKETS = 40
THREAD_CAP = 8


def _handler_threads() -> int:
    return sum("process_request_thread" in thread.name for thread in threading.enumerate())


def test_the_bot_server_caps_its_threads_and_closes_idle_connections(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the bot served over HTTP, its idle limit and thread cap made small enough for a test
    monkeypatch.setattr(slack_http, "IDLE_S", 1.0, raising=False)
    monkeypatch.setattr(slack_http, "MAX_THREADS", THREAD_CAP, raising=False)
    server = slack_http.BotServer(bot.app, port=0).start()
    host, port = server.server.server_address[:2]
    sockets: list[socket.socket] = []
    try:
        # WHEN many connections are opened and left idle
        for _ in range(IDLE_SOCKETS):
            sockets.append(socket.create_connection((str(host), port), timeout=10))
        time.sleep(0.5)

        # THEN the server's handler threads stay within the cap, and the connections over it are told 503
        assert _handler_threads() <= THREAD_CAP
        turned_away = 0
        for connection in sockets:
            connection.settimeout(0.05)
            with contextlib.suppress(TimeoutError):
                turned_away += connection.recv(64).startswith(b"HTTP/1.1 503")
        assert turned_away == IDLE_SOCKETS - THREAD_CAP

        # AND the idle ones it took are closed once idle past the limit
        time.sleep(2)
        for connection in sockets:
            connection.settimeout(2)
            with contextlib.suppress(ConnectionResetError):
                while connection.recv(4096):
                    pass  # the 503, if any, then the end
        deadline = time.monotonic() + 5
        while _handler_threads() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _handler_threads() == 0

        # AND a request after that is answered
        body = slash_command_body("help")
        answer = http.client.HTTPConnection(str(host), port, timeout=10)
        answer.request("POST", slack_http.PATH, body=body.encode(), headers=signed_headers(body, SECRET))
        assert answer.getresponse().status == 200
        answer.close()
    finally:
        for connection in sockets:
            connection.close()
        server.stop()


class Killed(BaseException):
    """The process dies here: its heartbeat stops, its message comes back after the visibility timeout."""


VISIBILITY_S = 3  # the stack's --visibility-timeout, short for a test


def _lambda_style(worker: RenderWorker) -> Any:
    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        for record in event["Records"]:
            worker.run(RenderTask.from_json(record["body"]))
        return {"batchItemFailures": []}

    return handle


@pytest.mark.bpy
def test_a_stitch_killed_after_its_claim_is_taken_over_by_the_retry_on_the_local_stack(
    stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the local stack's settings (its visibility timeout) and a tiled frame with three tiles in
    environ = {**stack.info.environ(), ENV_LOCAL_VISIBILITY_TIMEOUT: str(VISIBILITY_S)}
    environ.pop(ENV_AWS_ENDPOINT_URL)  # in-process moto
    for name, value in {**environ, ENV_WORK_DIR: str(tmp_path / "work")}.items():
        monkeypatch.setenv(name, value)
    wiring.render_worker.cache_clear()
    stack.put_scene()
    job = stack.service.submit(
        parse_render(split_words("shot.blend 4 --res 40x30 --tiles 2x2")), requested_by="U1", channel="C1"
    ).job
    assert job is not None
    tasks = [RenderTask.from_json(body) for body in stack.queued_bodies()]
    first = RenderWorker(
        jobs=stack.jobs,
        reporter=stack.reporter,
        scenes=SceneCache(stack.store, tmp_path / "scenes"),
        renderer=PillowRenderer(),
        uploader=stack.store,
        work_dir=tmp_path / "first",
    )
    for task in tasks[:3]:
        first.run(task)

    # WHEN a local worker records the last tile, wins the claim to stitch, and is killed stitching
    queue_url = stack.settings.render_queue_url
    stack.sqs.send_message(QueueUrl=queue_url, MessageBody=tasks[3].to_json())

    def killed(*args: Any) -> Path:
        raise Killed

    monkeypatch.setattr(blender_image.tiling, "stitch", killed)
    dying = QueuePoller(
        stack.sqs, queue_url, _lambda_style(first), "dies", visibility_timeout_s=VISIBILITY_S, retry_delay_s=1
    )
    with pytest.raises(Killed):
        dying.poll_once()
    monkeypatch.undo()  # the real stitcher again (and the environment, read once by the retry's worker below)
    for name, value in {**environ, ENV_WORK_DIR: str(tmp_path / "work")}.items():
        monkeypatch.setenv(name, value)

    # THEN the retry, a local worker with the stack's own handler, takes the stitch over: the frame is made once,
    # and the task never reaches the dead-letter queue
    retry = QueuePoller(
        stack.sqs,
        queue_url,
        render_handler.handler,
        "retry",
        visibility_timeout_s=VISIBILITY_S,
        retry_delay_s=1,
    )
    deadline = time.monotonic() + 6 * VISIBILITY_S
    try:
        while stack.jobs.get(job.job_id).done < 1 and time.monotonic() < deadline:
            retry.poll_once()
    finally:
        wiring.render_worker.cache_clear()
    dead = stack.sqs.receive_message(QueueUrl=stack.info.render_dlq_url, MaxNumberOfMessages=10)
    assert dead.get("Messages", []) == []
    done = stack.jobs.get(job.job_id)
    assert (done.status, done.done) == (JobStatus.DONE, 1)


def test_the_scenes_bucket_aborts_incomplete_uploads_after_a_day_on_the_local_stack_too(stack: Stack) -> None:
    # GIVEN the local stack deployed from infra/resources.yml (moto's CloudFormation skips a bucket's lifecycle)
    # THEN the scenes bucket reports the rule that aborts a killed upload's parts after a day
    rules = stack.s3.get_bucket_lifecycle_configuration(Bucket=stack.settings.scenes_bucket)["Rules"]
    aborting = [rule for rule in rules if "AbortIncompleteMultipartUpload" in rule]
    assert [(rule["Status"], rule["AbortIncompleteMultipartUpload"]) for rule in aborting] == [
        ("Enabled", {"DaysAfterInitiation": 1})
    ]
    # AND the outputs bucket has its rules as the template writes them
    rules = stack.s3.get_bucket_lifecycle_configuration(Bucket=stack.settings.outputs_bucket)["Rules"]
    assert {rule["ID"] for rule in rules} == {
        "previews-expire-with-their-links",
        "tiles-never-stitched",
        "abort-incomplete-uploads",
    }
    previews = next(rule for rule in rules if rule["ID"] == "previews-expire-with-their-links")
    assert previews["Expiration"] == {"Days": 8} and previews["Filter"] == {"Prefix": "previews/"}
    # AND the template still lints clean
    lint = subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), str(RESOURCES_TEMPLATE)],
        capture_output=True,
        text=True,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
