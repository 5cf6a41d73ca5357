"""The local stack keeps its state: `down` (or a killed supervisor) then `up` brings back jobs, history, scenes,
outputs and queued tasks, and a job interrupted by `down` finishes with every frame once and one notice."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import boto3
import pytest

from backend.commands import split_words
from backend.config import CLI_CHANNEL
from backend.render.grammar import parse_render
from backend.render.records import JobStatus
from local.embedded.carry import carry_over, made_by_template
from local.embedded.gate import Gate
from local.embedded.persistence import BLOBS, StateFolder
from local.embedded.stack import CLI_FEED_PREFIX, REGION, RESOURCES_TEMPLATE, deploy, start_moto_server

from .test_local_stack import _services, _wait, studiobot

Seen = TypeVar("Seen")
BIG = os.urandom(100_000)  # kept in blobs/, outside the pickle
SMALL = b'{"a": "manifest"}'


def _clients(endpoint: str) -> dict[str, Any]:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    names = ("s3", "sqs", "sns", "dynamodb", "ec2")
    return {name: session.client(name, endpoint_url=endpoint) for name in names}


# A template as it may change between two runs: the jobs table gains an index.
CHANGED_TEMPLATE = (
    RESOURCES_TEMPLATE.read_text()
    .replace(
        "        - AttributeName: channel\n          AttributeType: S\n",
        "        - AttributeName: channel\n          AttributeType: S\n"
        "        - AttributeName: colour\n          AttributeType: S\n",
        1,
    )
    .replace(
        "      GlobalSecondaryIndexes:\n",
        "      GlobalSecondaryIndexes:\n"
        "        - IndexName: by_colour\n"
        "          KeySchema:\n"
        "            - AttributeName: colour\n"
        "              KeyType: HASH\n"
        "          Projection:\n"
        "            ProjectionType: ALL\n",
        1,
    )
)


@pytest.fixture(autouse=True)
def _moto_port(monkeypatch: pytest.MonkeyPatch) -> None:
    """`start_moto_server` sets `MOTO_PORT` for this process: put it back after each test."""
    monkeypatch.setenv("MOTO_PORT", "0")


def test_a_snapshot_comes_back_into_a_freshly_deployed_stack(tmp_path: Path) -> None:
    # GIVEN a stack with scenes, a job record, queued tasks (one in flight) and a CLI's feed left subscribed
    assert CHANGED_TEMPLATE.count("colour") == 3  # the index and its attribute were written in
    server = start_moto_server()
    try:
        info = deploy(server.endpoint)
        aws = _clients(server.endpoint)
        aws["s3"].put_object(Bucket=info.scenes_bucket, Key="scenes/shot.blend", Body=BIG)
        aws["s3"].put_object(Bucket=info.scenes_bucket, Key="scenes/shot.blend.manifest.json", Body=SMALL)
        aws["dynamodb"].put_item(
            TableName=info.table_name,
            Item={"pk": {"S": "JOB#1"}, "sk": {"S": "JOB"}, "colour": {"S": "red"}},
        )
        for frame in (1, 2, 3):
            aws["sqs"].send_message(QueueUrl=info.render_queue_url, MessageBody=f"frame {frame}")
        (in_flight,) = aws["sqs"].receive_message(QueueUrl=info.render_queue_url, VisibilityTimeout=600)[
            "Messages"
        ]
        workstation = aws["ec2"].run_instances(
            ImageId="ami-12c6146b",  # one of moto's own images
            MinCount=1,
            MaxCount=1,
            TagSpecifications=[
                {"ResourceType": "instance", "Tags": [{"Key": "studiobot:workstation", "Value": "anim-01"}]}
            ],
        )["Instances"][0]["InstanceId"]
        feed = aws["sqs"].create_queue(QueueName=f"{CLI_FEED_PREFIX}gone")["QueueUrl"]
        feed_arn = aws["sqs"].get_queue_attributes(QueueUrl=feed, AttributeNames=["QueueArn"])
        aws["sns"].subscribe(
            TopicArn=info.events_topic_arn, Protocol="sqs", Endpoint=feed_arn["Attributes"]["QueueArn"]
        )
        folder = StateFolder(tmp_path / "state")

        # WHEN it is saved, twice (nothing changed in between), and the stack goes away
        assert folder.save(server.gate) is True
        assert folder.save(server.gate) is False
    finally:
        server.stop()  # moto forgets everything, as a process that ends does
    blobs = list((tmp_path / "state" / BLOBS).iterdir())
    assert len(blobs) == 1 and blobs[0].read_bytes() == BIG  # the big scene once, outside the pickle

    # THEN a new server, a template that changed meanwhile, and the saved contents carried into it
    server = start_moto_server()
    try:
        saved = folder.load()
        assert saved is not None and time.time() - saved.saved_at < 60
        info = deploy(server.endpoint, template=CHANGED_TEMPLATE)
        with server.gate.held():
            carried = carry_over(saved.backends, made_by_template(CHANGED_TEMPLATE))
        assert (carried.objects, carried.items, carried.messages, carried.in_flight) == (2, 1, 3, 1)
        aws = _clients(server.endpoint)
        scene = aws["s3"].get_object(Bucket=info.scenes_bucket, Key="scenes/shot.blend")["Body"].read()
        manifest = aws["s3"].get_object(Bucket=info.scenes_bucket, Key="scenes/shot.blend.manifest.json")
        assert scene == BIG and manifest["Body"].read() == SMALL
        # the item is back, and today's template's new index finds it
        found = aws["dynamodb"].query(
            TableName=info.table_name,
            IndexName="by_colour",
            KeyConditionExpression="colour = :c",
            ExpressionAttributeValues={":c": {"S": "red"}},
        )["Items"]
        assert [item["pk"]["S"] for item in found] == ["JOB#1"]
        # every task is there and visible at once, the one that was in flight with its receive counted
        messages = aws["sqs"].receive_message(
            QueueUrl=info.render_queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
        )["Messages"]
        assert sorted(message["Body"] for message in messages) == ["frame 1", "frame 2", "frame 3"]
        counts = {m["Body"]: m["Attributes"]["ApproximateReceiveCount"] for m in messages}
        assert counts[in_flight["Body"]] == "2"
        # a service the template makes nothing in comes back as it was: the workstation and its tag
        (reservation,) = aws["ec2"].describe_instances(
            Filters=[{"Name": "tag:studiobot:workstation", "Values": ["anim-01"]}]
        )["Reservations"]
        assert [instance["InstanceId"] for instance in reservation["Instances"]] == [workstation]
        # the URLs are this server's, the CLI's feed is gone, and the topic has exactly today's subscription
        assert info.notifications_queue_url.startswith(server.endpoint)
        queues = aws["sqs"].list_queues().get("QueueUrls", [])
        assert not [url for url in queues if CLI_FEED_PREFIX in url]
        subscriptions = aws["sns"].list_subscriptions_by_topic(TopicArn=info.events_topic_arn)[
            "Subscriptions"
        ]
        assert [s["Endpoint"].rsplit(":", 1)[-1] for s in subscriptions] == ["studiobot-local-notifications"]

        # AND the next snapshot keeps only what is still used
        aws["s3"].delete_object(Bucket=info.scenes_bucket, Key="scenes/shot.blend")
        assert StateFolder(tmp_path / "state").save(server.gate, always=True)
        assert list((tmp_path / "state" / BLOBS).iterdir()) == []
    finally:
        server.stop()


def test_a_snapshot_waits_for_the_requests_in_progress_and_holds_back_new_ones() -> None:
    # GIVEN moto (a stand-in that stays inside a request until told) behind the gate, one request inside
    order: list[str] = []
    inside, finish = threading.Event(), threading.Event()

    def moto(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        order.append(f"{environ['name']} in")
        inside.set()
        finish.wait(10)
        order.append(f"{environ['name']} out")
        return [b""]

    def start_response(*_: Any) -> None:
        pass

    gate = Gate(moto)
    put = {"REQUEST_METHOD": "POST", "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.PutItem"}
    first = threading.Thread(target=gate, args=({**put, "name": "first"}, start_response))
    first.start()
    inside.wait(10)

    # WHEN a snapshot asks for the backends, and another request comes meanwhile
    def snapshot() -> None:
        with gate.held():
            order.append("snapshot")

    taking = threading.Thread(target=snapshot)
    taking.start()
    time.sleep(0.2)
    second = threading.Thread(target=gate, args=({**put, "name": "second"}, start_response))
    second.start()
    time.sleep(0.2)
    assert order == ["first in"]  # the snapshot waits for the first; the second waits for the snapshot
    finish.set()
    for thread in (first, taking, second):
        thread.join(10)

    # THEN the snapshot saw the first request whole and none of the second
    assert order == ["first in", "first out", "snapshot", "second in", "second out"]
    # AND only requests that may change something call for the next snapshot
    gate.changed = False
    for reading in (
        {"REQUEST_METHOD": "GET"},  # S3 reads
        {"REQUEST_METHOD": "POST", "HTTP_X_AMZ_TARGET": "AmazonSQS.ReceiveMessage"},
        {"REQUEST_METHOD": "POST", "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.Query"},
    ):
        gate({**reading, "name": "read"}, start_response)
    assert gate.changed is False
    gate({**put, "name": "write"}, start_response)
    assert gate.changed is True
    # AND once closed (the final snapshot at `down`), nothing reaches moto any more
    gate.close()
    late = threading.Thread(target=gate, args=({**put, "name": "late"}, start_response), daemon=True)
    late.start()
    late.join(0.3)
    assert late.is_alive() and "late in" not in order


def test_a_snapshot_of_another_moto_is_set_aside_not_loaded(tmp_path: Path) -> None:
    import pickle

    from local.embedded.persistence import StateUnreadable

    folder = StateFolder(tmp_path / "state")
    folder.path.mkdir()
    with folder.snapshot.open("wb") as file:
        pickle.dump({"format": 1, "moto": "4.0.0", "saved_at": 0}, file)
    with pytest.raises(StateUnreadable, match=r"moto 4\.0\.0"):
        folder.load()
    aside = folder.set_aside()
    assert aside.exists() and not folder.path.exists() and folder.load() is None


# ---- the real stack: `studiobot up`, a render, a killed supervisor, `down`, `up` -----------------------------

FRAMES = 16
SMALL_RENDER = "--res 160x90 --samples 16 --engine CYCLES"  # ≈ 1 s a frame even idle: it outlives a restart


def _up(home: Path, *options: str) -> dict[str, Any]:
    started = studiobot(home, "up", "--workers", "1", *options)
    assert started.returncode == 0, started.stdout + started.stderr
    state: dict[str, Any] = json.loads((home / "stack.json").read_text())
    state["said"] = " ".join(started.stdout.split())
    return state


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    """The stack's home; whatever the test leaves running is stopped."""
    folder = tmp_path / ".studiobot"
    yield folder
    studiobot(folder, "down")


@pytest.mark.slow
@pytest.mark.bpy
def test_a_job_survives_a_killed_stack_and_a_down_up_with_every_frame_once_and_one_notice(
    home: Path, sample_scene: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a stack rendering a 16-frame job
    state = _up(home)
    assert "State:" in state["said"] and "kept from" not in state["said"]  # nothing to bring back yet
    info, service, jobs = _services(state, monkeypatch)
    boto3.client("s3").upload_file(str(sample_scene), info.scenes_bucket, "scenes/turntable.blend")
    job = service.submit(
        parse_render(split_words(f"turntable.blend 1-{FRAMES} {SMALL_RENDER}")), requested_by="U1"
    ).job
    assert job is not None
    _wait(jobs, job.job_id, lambda job: job.done >= 1)
    rendering = time.time()
    snapshot = home / "state" / "moto.pickle"
    # a snapshot taken since (every 2 s while anything changes) holds the job
    _until(lambda: snapshot.stat().st_mtime if snapshot.exists() else 0.0, lambda saved: saved > rendering)

    # WHEN its supervisor is killed mid-job (no goodbye, no final snapshot) and the stack is started again
    os.kill(state["pid"], signal.SIGKILL)
    _gone(state["workers"]["render-1"])  # the orphaned worker leaves too
    state = _up(home)
    assert "kept from" in state["said"], state["said"]
    _, _, jobs = _services(state, monkeypatch)
    before_down = _wait(jobs, job.job_id, lambda job: job.done >= 2).done

    # AND then it is stopped with `down` mid-job, and started once more
    stopped = studiobot(home, "down")
    assert "Local stack stopped" in stopped.stdout, stopped.stdout + stopped.stderr
    state = _up(home)
    assert "kept from" in state["said"], state["said"]
    info, _, jobs = _services(state, monkeypatch)
    resumed = jobs.get(job.job_id)
    assert not resumed.status.is_final and resumed.done >= before_down  # mid-job, and nothing done is lost

    # THEN the job finishes: every frame once, each file once, one notice in all three runs
    final = _wait(jobs, job.job_id, lambda job: job.status.is_final, timeout=180)
    assert (final.status, final.done, final.failed) == (JobStatus.DONE, FRAMES, 0)
    assert sorted(record.frame for record in jobs.frames(job.job_id)) == list(range(1, FRAMES + 1))
    listing = boto3.client("s3").list_objects_v2(Bucket=info.outputs_bucket, Prefix=f"outputs/{job.job_id}/")
    keys = [item["Key"] for item in listing["Contents"]]
    assert len([key for key in keys if "/proxies/" not in key]) == FRAMES and len(keys) == 2 * FRAMES

    def notices(log: str) -> list[str]:
        return [line for line in log.splitlines() if f"Render `{job.job_id}`" in line and "finished" in line]

    _until(lambda: (home / "stack.log").read_text(), lambda log: bool(notices(log)))
    time.sleep(3)  # a second notice, were there one, would come within the notifier's next turns
    assert len(notices((home / "stack.log").read_text())) == 1
    # the history and the scene are there too, for the CLI as for Slack
    assert f"{FRAMES}/{FRAMES}" in studiobot(home, "render", "status", job.job_id).stdout
    head = boto3.client("s3").head_object(Bucket=info.scenes_bucket, Key="scenes/turntable.blend")
    assert head["ContentLength"] == sample_scene.stat().st_size


def _gone(pid: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise AssertionError(f"process {pid} still runs {timeout} s after its supervisor was killed")


def _until(read: Callable[[], Seen], done: Callable[[Seen], bool], timeout: float = 30) -> Seen:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = read()
        if done(seen):
            return seen
        time.sleep(0.2)
    raise AssertionError(f"not there after {timeout} s:\n{read()}")


@pytest.mark.slow
@pytest.mark.bpy
def test_a_watching_cli_says_one_sentence_when_the_stack_goes_away(
    home: Path, sample_scene: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN `studiobot render` watching a job no worker will take (the stack has none)
    state = _up_without_workers(home)
    watching = subprocess.Popen(
        [sys.executable, "-m", "local.cli.main", "render", str(sample_scene), "1-3", "--res", "64x36"],
        env=_cli_env(home),
        cwd=home.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _, _, jobs = _services(state, monkeypatch)
    deadline = time.monotonic() + 60
    while not jobs.recent(CLI_CHANNEL) and watching.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert watching.poll() is None, watching.communicate()
    (job,) = jobs.recent(CLI_CHANNEL)

    # WHEN the stack goes down under it
    assert "Local stack stopped" in studiobot(home, "down").stdout
    out, err = watching.communicate(timeout=60)

    # THEN it exits with one sentence that says what to do, and no traceback
    assert watching.returncode == 1, out + err
    assert "Traceback" not in out + err and err.strip() == "", out + err
    (said,) = " ".join(out.split()).split("✗ ")[1:]
    assert said == (
        f"The local stack went away while watching job `{job.job_id}`: the job is kept and carries on after "
        f"`studiobot up` (`studiobot render status {job.job_id}` shows it)."
    )
    # AND it is so: the job is there after `up`
    _up_without_workers(home)
    assert job.job_id in studiobot(home, "render", "status", job.job_id).stdout


@pytest.mark.slow
def test_the_cli_says_one_sentence_when_nothing_answers_at_the_stack(tmp_path: Path) -> None:
    # GIVEN a stack whose AWS does not answer (it crashed: its state file names a live process, a dead port)
    home = tmp_path / ".studiobot"
    home.mkdir()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{probe.getsockname()[1]}"  # closed again when the block ends
    stack = {
        "endpoint": endpoint,
        "stack_name": "studiobot-local",
        "scenes_bucket": "scenes",
        "outputs_bucket": "outputs",
        "table_name": "jobs",
        "render_queue_url": f"{endpoint}/123456789012/render",
        "render_dlq_url": f"{endpoint}/123456789012/render-dlq",
        "events_topic_arn": "arn:aws:sns:us-east-1:123456789012:events",
        "notifications_queue_url": f"{endpoint}/123456789012/notifications",
    }
    (home / "stack.json").write_text(json.dumps({"pid": os.getpid(), "stack": stack, "workers": {}}))

    # WHEN commands that read and that submit run
    for words in (("render", "list"), ("render", "shot.blend", "1-3"), ("workstations", "status")):
        answer = studiobot(home, *words, timeout=120)
        # THEN each says one sentence, without a traceback
        out = " ".join(answer.stdout.split())
        assert answer.returncode == 1 and "Traceback" not in answer.stdout + answer.stderr, words
        assert out == (
            "✗ The local stack stopped answering (it was stopped, or it crashed): `studiobot up` starts it again "
            "with its jobs, and `studiobot render list` shows them."
        ), words


@pytest.mark.slow
def test_down_forget_deletes_the_kept_state(tmp_path: Path) -> None:
    home = tmp_path / ".studiobot"
    (home / "state" / BLOBS).mkdir(parents=True)
    (home / "state" / "moto.pickle").write_bytes(b"a snapshot")
    forgot = studiobot(home, "down", "--forget")
    assert "The local stack is not running." in forgot.stdout
    assert "the next `studiobot up` starts empty" in " ".join(forgot.stdout.split())
    assert not (home / "state").exists()


def _up_without_workers(home: Path) -> dict[str, Any]:
    started = studiobot(home, "up", "--workers", "0")
    assert started.returncode == 0, started.stdout + started.stderr
    state: dict[str, Any] = json.loads((home / "stack.json").read_text())
    return state


def _cli_env(home: Path) -> dict[str, str]:
    env = {**os.environ, "STUDIOBOT_HOME": str(home), "COLUMNS": "200"}
    env.pop("AWS_ENDPOINT_URL", None)
    return env
