"""The render image's entry point, `python -m awslambdaric entry.render.handler`, against a Lambda
Runtime API emulator on 127.0.0.1: a real SQS event renders a frame into S3 (moto's server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest

from backend.commands import split_words
from backend.render.grammar import parse_render
from backend.render.records import JobStatus
from backend.render.store import DynamoJobs
from entry.wiring import Services
from local.embedded.stack import deploy, start_moto_server

pytestmark = [pytest.mark.bpy, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
EVENT = REPO / "tests" / "events" / "sqs_render_task.json"
PREFIX = "/2018-06-01/runtime/invocation/"


class RuntimeApi:
    """Hands out one invocation, records the function's answer, then keeps the next poll waiting."""

    def __init__(self, event: dict[str, Any]) -> None:
        self.event = event
        self.request_id = str(uuid.uuid4())
        self.handed_out = False
        self.answered = threading.Event()
        self.answer: tuple[str, Any] | None = None
        self.stop = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # awslambdaric hangs on HTTP/1.0 answers

            def do_GET(self) -> None:
                if self.path != PREFIX + "next":
                    return self._reply(404, b"{}")
                if api.handed_out:
                    api.stop.wait(60)  # no second invocation: hold the poll as Lambda does between events
                    return self._reply(410, b"{}")
                api.handed_out = True
                self._reply(
                    200,
                    json.dumps(api.event).encode(),
                    {
                        "Lambda-Runtime-Aws-Request-Id": api.request_id,
                        # As Lambda sends it: when the invocation's 15 minutes end (the watchdog reads it).
                        "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 900_000),
                        "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:render",
                    },
                )

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                kind = self.path.rsplit("/", 1)[-1]  # response | error
                api.answer = (kind, json.loads(body or b"null"))
                api.answered.set()
                self._reply(202, b'{"status": "OK"}')

            def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def moto_server() -> Iterator[Any]:
    server = start_moto_server()
    yield server
    server.stop()


def test_awslambdaric_runs_the_render_handler_on_a_real_sqs_event(
    moto_server: Any, sample_scene: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = deploy(moto_server.endpoint, stack_name="studiobot-ric")
    for name, value in info.environ().items():
        monkeypatch.setenv(name, value)
    settings = info.settings()
    boto3.client("s3").upload_file(str(sample_scene), info.scenes_bucket, "scenes/turntable.blend")
    jobs = DynamoJobs(settings.table_name)
    service = Services(settings, jobs=jobs).submissions
    job = service.submit(
        parse_render(split_words("turntable.blend 3 --res 64x36 --samples 1 --engine CYCLES")), "U1"
    ).job
    assert job is not None
    message = boto3.client("sqs").receive_message(QueueUrl=settings.render_queue_url, AttributeNames=["All"])[
        "Messages"
    ][0]
    event = json.loads(EVENT.read_text())
    event["Records"][0].update(
        messageId=message["MessageId"], receiptHandle=message["ReceiptHandle"], body=message["Body"]
    )

    api = RuntimeApi(event)
    env = {
        **os.environ,
        "AWS_LAMBDA_RUNTIME_API": api.address,
        "STUDIOBOT_WORK_DIR": str(tmp_path),
        "PYTHONPATH": str(REPO),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "awslambdaric", "entry.render.handler"],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert api.answered.wait(120), "the function never answered the Runtime API"
    finally:
        api.stop.set()
        process.terminate()
        _, stderr = process.communicate(timeout=30)
        api.server.shutdown()
    assert api.answer == ("response", {"batchItemFailures": []}), stderr.decode()[-2000:]
    picture = boto3.client("s3").get_object(
        Bucket=info.outputs_bucket, Key=f"outputs/{job.job_id}/turntable_0003.png"
    )
    assert picture["Body"].read(8) == b"\x89PNG\r\n\x1a\n"
    assert jobs.get(job.job_id).status is JobStatus.DONE
