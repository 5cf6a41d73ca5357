"""The embedded local stack with real processes: `studiobot up`, render, `down`; killed workers and poison tasks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import av
import boto3
import pytest

from backend.aws.s3 import S3Store
from backend.aws.sqs import SqsQueue
from backend.commands import split_words
from backend.render.grammar import parse_render
from backend.render.records import Job, JobStatus
from backend.render.store import DynamoJobs
from backend.render.submit import SubmissionService
from entry.wiring import Services
from local.embedded.stack import StackInfo

pytestmark = [pytest.mark.slow, pytest.mark.bpy]
REPO = Path(__file__).resolve().parents[2]
TINY = "--res 64x36 --samples 1 --engine CYCLES"


def studiobot(home: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STUDIOBOT_HOME": str(home), "COLUMNS": "200"}
    env.pop("AWS_ENDPOINT_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "local.cli.main", *args],
        env=env,
        cwd=home.parent,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def running_stack(tmp_path: Path) -> Iterator[tuple[Path, dict]]:
    """A stack started as a user would, with short timeouts so retries happen within the test."""
    home = tmp_path / ".studiobot"
    started = studiobot(home, "up", "--workers", "1", "--visibility-timeout", "4")
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        yield home, json.loads((home / "stack.json").read_text())
    finally:
        stopped = studiobot(home, "down")
        assert "Local stack stopped" in stopped.stdout, stopped.stdout + stopped.stderr
        assert not (home / "stack.json").exists()


def _services(
    state: dict, monkeypatch: pytest.MonkeyPatch
) -> tuple[StackInfo, SubmissionService, DynamoJobs]:
    info = StackInfo(**state["stack"])
    monkeypatch.setenv("AWS_ENDPOINT_URL", info.endpoint)
    settings = info.settings()
    jobs = DynamoJobs(settings.table_name, client=boto3.client("dynamodb"))
    store = S3Store(boto3.client("s3"))
    queue = SqsQueue(settings.render_queue_url, client=boto3.client("sqs"))
    return info, Services(settings, store=store, jobs=jobs, queue=queue).submissions, jobs


def _movie_frames(path: Path) -> tuple[int, float]:
    """How many frames the movie at `path` holds, and its rate (PyAV reads it back)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return sum(1 for _ in container.decode(stream)), float(stream.average_rate or 0)


def _wait(jobs: DynamoJobs, job_id: str, until, timeout: float = 120) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = jobs.get(job_id)
        if until(job):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not get there in {timeout} s: {jobs.get(job_id)}")


def test_up_render_down_like_the_readme(running_stack: tuple[Path, dict], sample_scene: Path) -> None:
    home, _ = running_stack
    rendered = studiobot(
        home, "render", str(sample_scene), "1-4", *TINY.split(), "--out", str(home.parent / "r")
    )
    output = rendered.stdout
    assert rendered.returncode == 0, output + rendered.stderr
    key = f"scenes/{sample_scene.parent.name}/turntable.blend"  # a shot's namespace is its folder
    assert f"Shot {key}: 1 file(s)" in " ".join(output.split())
    assert f"finished: all 4 frames of `{key}`" in " ".join(output.split())
    (job_folder,) = (home.parent / "r").iterdir()
    names = sorted(path.name for path in job_folder.iterdir())
    movie = f"{job_folder.name}_dailies.mp4"  # beside the contact sheet, and said so
    assert names == ["contact_sheet.png", movie, *[f"turntable_{frame:04d}.png" for frame in range(1, 5)]]
    assert str(job_folder.relative_to(home.parent)) in output.replace("\n", "")
    assert f"Movie: {job_folder / movie}" in output.replace("\n", "")
    assert _movie_frames(job_folder / movie) == (4, 24)  # the sample scene's 24 fps
    shipped = key.removeprefix("scenes/")
    again = studiobot(home, "render", shipped, "5", *TINY.split(), "--out", str(home.parent / "r"))
    assert f"finished: the frame of `{key}`" in " ".join(again.stdout.split()), again.stdout + again.stderr

    # The rest of `/render`'s words work here too, with the same answers.
    job_id = job_folder.name
    listing = studiobot(home, "render", "list").stdout
    assert f"`{job_id}` ✅ Done" in listing and listing.count("✅ Done") == 2
    assert "4/4" in studiobot(home, "render", "status", job_id).stdout
    again_movie = studiobot(home, "render", "movie", job_id, "--fps", "12", "--frames", "2-3", "--out", "r")
    assert again_movie.returncode == 0 and f"Movie: r/{job_id}/{movie}" in again_movie.stdout.replace(
        "\n", ""
    )
    assert _movie_frames(job_folder / movie) == (2, 12)
    wrong = studiobot(home, "render", "movie", job_id, "--frames", "1-9")
    assert wrong.returncode == 1 and f"`{job_id}` did not render 5-9" in " ".join(wrong.stdout.split())
    refused = studiobot(home, "render", "cancel", job_id)
    assert refused.returncode == 1 and f"Job `{job_id}` is already done: nothing to cancel." in refused.stdout
    assert "/render SCENE FRAMES" in studiobot(home, "render", "help").stdout
    assert "Say which job to retry" in studiobot(home, "render", "retry").stdout
    assert "No workstations found" in studiobot(home, "workstations", "status").stdout
    unknown = studiobot(home, "workstations", "start", "anim-01")
    assert unknown.returncode == 1 and "There is no workstation `anim-01`" in unknown.stdout
    assert (
        "Keep-alive: started none; stopped again none."
        in studiobot(home, "keepalive", "run", "--wait", "0").stdout
    )
    # `/budget`'s words too: the local stack has no AWS budget, and its operator is an admin
    assert "No budgets in this AWS account" in studiobot(home, "budget").stdout
    turned = studiobot(home, "budget", "guard", "on", "trying it out")
    assert turned.returncode == 0 and "Budget guard on: new renders need an admin's approval" in turned.stdout
    assert "Budget guard on since" in studiobot(home, "budget", "status").stdout
    assert "already on" in studiobot(home, "budget", "guard", "on").stdout
    assert "Budget guard off" in studiobot(home, "budget", "guard", "off").stdout
    assert studiobot(home, "budget", "spend").returncode == 1


def test_the_cli_answers_a_mistake_with_a_sentence_not_a_traceback(running_stack: tuple[Path, dict]) -> None:
    home, _ = running_stack
    answer = studiobot(home, "render", "missing.blend", "1-240x0")
    assert answer.returncode == 1
    assert "step of 0" in answer.stdout and "Traceback" not in answer.stdout + answer.stderr
    answer = studiobot(home, "render", "missing.blend", "1-10")
    assert "There is no scene `scenes/missing.blend` in the bucket" in answer.stdout.replace("\n", " ")


def test_a_worker_killed_mid_frame_loses_nothing(
    running_stack: tuple[Path, dict],
    sample_scene: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home, state = running_stack
    info, service, jobs = _services(state, monkeypatch)
    boto3.client("s3").upload_file(str(sample_scene), info.scenes_bucket, "scenes/turntable.blend")
    request = parse_render(split_words("turntable.blend 1-3 --res 320x180 --samples 16 --engine CYCLES"))
    job = service.submit(request, requested_by="U1").job
    assert job is not None
    _wait(jobs, job.job_id, lambda job: job.status is JobStatus.RUNNING)
    os.kill(state["workers"]["render-1"], signal.SIGKILL)  # mid-frame: the first frame is rendering
    final = _wait(jobs, job.job_id, lambda job: job.status.is_final)
    assert (final.status, final.done, final.failed) == (JobStatus.DONE, 3, 0)
    listing = boto3.client("s3").list_objects_v2(Bucket=info.outputs_bucket, Prefix=f"outputs/{job.job_id}/")
    frames = [item for item in listing["Contents"] if "/proxies/" not in item["Key"]]
    assert len(frames) == 3 and len(listing["Contents"]) == 6  # each frame once, with its proxy
    assert "exited with -9; starting another" in (home / "stack.log").read_text()


def test_a_poison_task_ends_in_the_dlq_and_the_job_lists_it_failed(
    running_stack: tuple[Path, dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, state = running_stack
    info, service, jobs = _services(state, monkeypatch)
    boto3.client("s3").put_object(
        Bucket=info.scenes_bucket, Key="scenes/broken.blend", Body=b"not a blend file"
    )
    job = service.submit(parse_render(split_words(f"broken.blend 7 {TINY}")), requested_by="U1").job
    assert job is not None
    final = _wait(jobs, job.job_id, lambda job: job.status.is_final, timeout=90)
    assert (final.status, final.done, final.failed) == (JobStatus.DONE_WITH_FAILURES, 0, 1)
    (record,) = jobs.frames(job.job_id)
    assert record.frame == 7 and "RuntimeError" in record.error


def test_render_from_slack_over_http_against_studiobot_up(
    tmp_path: Path, sample_scene: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket
    import urllib.request

    from testing.slack import FakeSlack, signed_headers, slash_command_body

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    home = tmp_path / ".studiobot"
    with FakeSlack() as slack:
        env = {
            "SLACK_BOT_TOKEN": "xoxb-e2e",
            "SLACK_SIGNING_SECRET": "e2e-secret",
            "SLACK_API_URL": slack.base_url,
            "STUDIOBOT_BOT_PORT": str(port),
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        started = studiobot(home, "up", "--workers", "1")
        assert started.returncode == 0, started.stdout + started.stderr
        try:
            state = json.loads((home / "stack.json").read_text())
            info, _, jobs = _services(state, monkeypatch)
            boto3.client("s3").upload_file(str(sample_scene), info.scenes_bucket, "scenes/turntable.blend")
            body = slash_command_body(f"turntable.blend 1-3 {TINY}", response_url=slack.response_url())
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/slack/events",
                data=body.encode(),
                headers=signed_headers(body, "e2e-secret"),
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 200 and "Checking" in json.loads(response.read())["text"]
            (card,) = slack.wait_for("chat.postMessage", timeout=30)
            (complete,) = slack.wait_for("files.completeUploadExternal", timeout=120)
            assert complete.args["thread_ts"] == card.args.get("ts", "1700000000.000100")
            assert "all 3 frames of `scenes/turntable.blend` rendered" in complete.args["initial_comment"]
            final = slack.calls_to("chat.update")[-1]
            assert final.args["blocks"][0]["text"]["text"].startswith("*✅ Done*")
            (job,) = jobs.recent("C0RENDERS")
            assert job.status is JobStatus.DONE and job.done == 3
            # the reply's link is the stack's own, answered by its bot server: it redirects to the zip of the frames
            import re
            import zipfile
            from io import BytesIO

            link = re.search(r"<([^|>]+)\|Download the frames>", complete.args["initial_comment"])
            assert link and link.group(1).startswith(f"http://127.0.0.1:{port}/links/")
            with urllib.request.urlopen(link.group(1), timeout=10) as response:
                assert len(zipfile.ZipFile(BytesIO(response.read())).namelist()) == 3
        finally:
            studiobot(home, "down")
