"""Scale benchmark: a 2,000-frame job from Slack on the local stack, the notifier's cost at 200 vs 2,000 frames,
and `/workstations status` over 1,000 workstations.

`python -m bench scale` runs two processes of its own (moto keeps its state in module globals):

- `python -m bench.scale jobs`: the local stack (real Blender, Workbench, 32×18) with the bot and the notifier
  talking to `testing/slack.py`. A signed `/render … 1-200` over HTTP (it also warms the workers), then
  `/render … 1-2000`; each is timed from the command to its completion reply. Every process of the stack counts
  its AWS API calls (`bench/startup/sitecustomize.py`). Then the notifier's Lambda handler handles each job's
  `JobCompleted` again in a fresh process of its own, the job put back as the first delivery found it (the
  announcement unclaimed, no archive built), measured around the handling alone: its peak RSS with the dailies
  movie streamed from every proxy, and the movie itself (`movie_s`, `movie_bytes`, `movie_frames` as decoded).
- `python -m bench.scale workstations`: 1,000 tagged EC2 instances in in-process moto, one signed
  `/workstations status` through the real Bolt app; what reaches the fake Slack is measured.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import itertools
import json
import os
import socket
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any, TextIO

from backend.render.tasks import PROXIES
from bench.render import _python
from bench.slack_calls import max_in_window

FRAMES, SMALL_FRAMES = 2_000, 200
CHUNK = 20  # frames per task: what a studio sets for frames this small (a task per frame is mostly overhead)
RESOLUTION, ENGINE = "32x18", "BLENDER_WORKBENCH"
WORKSTATIONS = 1_000
STOPPED_EVERY = 4  # one workstation in four is stopped, the rest running
OWNERS = 40  # artists sharing the fleet
SECRET = "bench-signing-secret"
WINDOW_S = 5.0  # the card may change at most once in any window this long
SETTLE_S = 2.0  # after the completion reply: time for a duplicate reply or a late update to show itself
JOB_TIMEOUT_S = 1_800.0  # only so a broken stack cannot hang the run
STARTUP = Path(__file__).resolve().parent / "startup"  # its sitecustomize counts each process's AWS calls
ENV_CALLS_DIR = (
    "STUDIOBOT_BENCH_CALLS_DIR"  # read by bench/startup/sitecustomize.py (which imports nothing of ours)
)
SCENE_KEY = "scenes/turntable.blend"


def run(log_path: Path, frames: int = FRAMES, small_frames: int = SMALL_FRAMES) -> dict[str, Any]:
    """Run both measurements in processes of their own (their output goes to `log_path`); return scale.json.
    `frames`, `small_frames`: smaller jobs for a quick try of the benchmark itself."""
    with tempfile.TemporaryDirectory(prefix="studiobot-bench-scale-") as folder, log_path.open("w") as log:
        work = Path(folder)
        calls = work / "calls"
        calls.mkdir()
        path = os.pathsep.join(filter(None, [str(STARTUP), os.environ.get("PYTHONPATH", "")]))
        environ = {**os.environ, "PYTHONPATH": path, ENV_CALLS_DIR: str(calls)}
        started = time.perf_counter()
        sizes = ["--frames", str(frames), "--small-frames", str(small_frames)]
        _python("bench.scale", "jobs", *sizes, "--result", str(work / "jobs.json"), log=log, env=environ)
        jobs_s = time.perf_counter() - started
        _python("bench.scale", "workstations", "--result", str(work / "workstations.json"), log=log)
        workstations_s = time.perf_counter() - started - jobs_s
        jobs = json.loads((work / "jobs.json").read_text())
        workstations = json.loads((work / "workstations.json").read_text())
    return summary(jobs, workstations, frames, small_frames) | {
        "bench_jobs_s": round(jobs_s, 1),
        "bench_workstations_s": round(workstations_s, 1),
    }


def summary(
    jobs: dict[str, Any], workstations: dict[str, Any], frames: int, small_frames: int
) -> dict[str, Any]:
    """The headline numbers (the big job's, the notifier's ratios) over the children's measurements."""
    big = jobs["jobs"][str(frames)]
    notifier_big, notifier_small = jobs["notifier"][str(frames)], jobs["notifier"][str(small_frames)]

    def both(name: str) -> dict[str, Any]:
        return {str(small_frames): notifier_small[name], str(frames): notifier_big[name]}

    return {
        "frames": frames,
        "small_frames": small_frames,
        "chunk": CHUNK,
        "resolution": RESOLUTION,
        "engine": ENGINE,
        "render_workers": jobs["render_workers"],
        "job_s": big["job_s"],
        "chat_update_calls": big["chat_update_calls"],
        "updates_allowed": big["updates_allowed"],
        "max_updates_in_any_5s": big["max_updates_in_any_5s"],
        "completion_replies": big["completion_replies"],
        "slack_calls_by_method": big["slack_calls_by_method"],
        "dynamodb_calls_per_frame": big["dynamodb_calls_per_frame"],
        "sqs_calls_per_frame": big["sqs_calls_per_frame"],
        "sqs_receive_calls_per_frame": big["sqs_receive_calls_per_frame"],
        "notifier_peak_rss_mb": both("peak_rss_mb"),
        "notifier_peak_rss_ratio": _ratio(notifier_big["peak_rss_mb"], notifier_small["peak_rss_mb"]),
        "notifier_proxy_bytes": both("proxy_bytes"),
        "notifier_proxy_bytes_ratio": _ratio(notifier_big["proxy_bytes"], notifier_small["proxy_bytes"]),
        # the movie reads every proxy once (and the sheet 24 more): per frame, the bytes stay level
        "notifier_proxy_bytes_per_frame_ratio": _ratio(
            notifier_big["proxy_bytes"] / frames, notifier_small["proxy_bytes"] / small_frames
        ),
        "movie_s": notifier_big["movie_s"],
        "movie_bytes": notifier_big["movie_bytes"],
        "movie_frames": notifier_big["movie_frames"],
        "notifier_movie_s": both("movie_s"),
        "notifier_zip_stream_bytes": both("zip_stream_bytes"),
        "notifier_rss_growth_mb": both("rss_growth_mb"),
        "notifier_handle_s": both("handle_s"),
        "notifier_get_object_calls": both("get_object_calls"),
        "workstations": workstations,
        "jobs": jobs["jobs"],
        "notifier": jobs["notifier"],
    }


def _ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 3) if denominator else float("inf")


# ---- the jobs (child process) ------------------------------------------------------------------------------


def read_calls(folder: Path) -> dict[int, dict[str, Any]]:
    """Every process's AWS API call counts so far, by pid (`bench/startup/sitecustomize.py` writes them)."""
    found: dict[int, dict[str, Any]] = {}
    for path in folder.glob("*.json"):
        data = json.loads(path.read_text())
        found[int(data["pid"])] = data
    return found


def _role(data: dict[str, Any], stack_pid: int) -> str:
    if data["pid"] == stack_pid:
        return "stack"  # moto, the bot's HTTP server, the notifier loop, the schedules
    argv = " ".join(data["argv"])
    if "local/embedded/worker.py" in argv or "local.embedded.worker" in argv:
        return "dlq worker" if argv.endswith("dlq") else "render workers"
    return "other"


def calls_between(
    before: dict[int, dict[str, Any]], after: dict[int, dict[str, Any]], stack_pid: int
) -> dict[str, Counter[str]]:
    """The calls made between two readings, by role (render workers summed) and `service.Operation`."""
    by_role: dict[str, Counter[str]] = {}
    for pid, data in after.items():
        earlier = Counter(before.get(pid, {}).get("calls", {}))
        made = Counter(data["calls"]) - earlier
        by_role.setdefault(_role(data, stack_pid), Counter()).update(made)
    return by_role


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _job(slack: Any, port: int, frames: int, calls_dir: Path) -> dict[str, Any]:
    """One `/render` from Slack, timed from the command to its completion reply, with what it cost."""
    from testing.slack import signed_headers, slash_command_body

    before = read_calls(calls_dir)
    first = len(slack.calls)
    text = f"turntable.blend 1-{frames} --res {RESOLUTION} --engine {ENGINE} --chunk {CHUNK}"
    body = slash_command_body(text, response_url=slack.response_url(f"render-{frames}"))
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/slack/events", data=body.encode(), headers=signed_headers(body, SECRET)
    )
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=30):
        pass
    deadline = started + JOB_TIMEOUT_S
    while not any(call.method == "files.completeUploadExternal" for call in slack.calls[first:]):
        if time.monotonic() > deadline:
            raise RuntimeError(f"no completion reply for the {frames}-frame job in {JOB_TIMEOUT_S:.0f} s")
        time.sleep(0.1)
    replied = next(call.at for call in slack.calls[first:] if call.method == "files.completeUploadExternal")
    time.sleep(SETTLE_S)
    after = read_calls(calls_dir)
    calls = slack.calls[first:]
    job_s = replied - started
    updates = [call.at for call in calls if call.method == "chat.update"]
    replies = [
        call
        for call in calls
        if call.method == "files.completeUploadExternal"
        or (call.method == "chat.postMessage" and call.args.get("thread_ts"))
    ]
    by_role = calls_between(before, after, os.getpid())
    everything = sum(by_role.values(), Counter())
    dynamodb = sum(count for name, count in everything.items() if name.startswith("dynamodb."))
    sqs = sum(count for name, count in everything.items() if name.startswith("sqs."))
    return {
        "frames": frames,
        "command": f"/render {text}",
        "job_s": round(job_s, 1),
        "chat_update_calls": len(updates),
        "updates_allowed": int(job_s // WINDOW_S),  # one per 5 s of the job's run time
        "max_updates_in_any_5s": max_in_window(updates, WINDOW_S),
        "update_gaps_s": [round(later - earlier, 2) for earlier, later in itertools.pairwise(updates)],
        "completion_replies": len(replies),
        "slack_calls": len(calls),
        "slack_calls_by_method": dict(Counter(call.method for call in calls)),
        "dynamodb_calls_per_frame": round(dynamodb / frames, 2),
        "sqs_calls_per_frame": round(sqs / frames, 2),
        "sqs_receive_calls_per_frame": round(everything["sqs.ReceiveMessage"] / frames, 2),
        "aws_calls": {role: dict(sorted(made.items())) for role, made in sorted(by_role.items())},
        "aws_calls_total": dict(sorted(everything.items())),
    }


def _completions(sqs: Any, events_url: str) -> dict[int, str]:
    """The JobCompleted bodies on the benchmark's events queue, by the job's frame count."""
    from backend.event_wire import parse_event
    from backend.events import JobCompleted

    found: dict[int, str] = {}
    while messages := sqs.receive_message(QueueUrl=events_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            event = parse_event(message["Body"])
            if isinstance(event, JobCompleted):
                found[event.total] = message["Body"]
            sqs.delete_message(QueueUrl=events_url, ReceiptHandle=message["ReceiptHandle"])
    return found


def _notifier_again(
    body: str, jobs: Any, store: Any, work: Path, environ: dict[str, str], log: TextIO
) -> dict[str, Any]:
    """The notifier's Lambda handler on a finished job's JobCompleted, in a fresh process (`notifier` below), with
    the job as its first delivery found it: the announcement unclaimed (what a failed post leaves) and no archive of
    the frames yet (a retried reply reuses the first try's zip, which would leave the zip out of the measurement)."""
    from backend.event_wire import parse_event
    from backend.events import JobCompleted
    from bot.archive import PREVIEWS_PREFIX

    event = parse_event(body)
    assert isinstance(event, JobCompleted)
    job = jobs.get(event.job_id)
    archived = f"{PREVIEWS_PREFIX}{job.job_id}/"
    for item in store.list_prefix(job.output_bucket, archived):
        store.client.delete_object(Bucket=job.output_bucket, Key=item.key)
    jobs.release_completion_notice(job.job_id)
    event_path, result = work / f"{job.job_id}.event.json", work / f"{job.job_id}.notifier.json"
    event_path.write_text(body)
    calls_dir = Path(environ[ENV_CALLS_DIR])
    before = read_calls(calls_dir)
    _python(
        "bench.scale", "notifier", "--event", str(event_path), "--result", str(result), log=log, env=environ
    )
    made = calls_between(before, read_calls(calls_dir), os.getpid()).get("other", Counter())
    outputs = store.list_prefix(job.output_bucket, job.output_prefix)
    data: dict[str, Any] = json.loads(result.read_text())
    data["aws_calls"] = dict(sorted(made.items()))
    data["job_frame_bytes"] = sum(item.size for item in outputs if f"/{PROXIES}" not in item.key)
    data["job_proxy_bytes"] = sum(item.size for item in outputs if f"/{PROXIES}" in item.key)
    data["archive_bytes"] = sum(item.size for item in store.list_prefix(job.output_bucket, archived))
    return data


def jobs_child(result: Path, sizes: tuple[int, int]) -> None:
    """Start the stack with Slack, render 200 then 2,000 frames from Slack, then measure the notifier on each."""
    import boto3

    from backend.aws.s3 import S3Store
    from backend.render.store import DynamoJobs
    from bench.pipeline import wait_until_idle
    from bench.render import build_scene
    from local.embedded.stack import subscribe_queue, use_local_aws
    from local.embedded.supervisor import Supervisor
    from testing.slack import FakeSlack

    calls_dir = Path(os.environ[ENV_CALLS_DIR])
    port = _free_port()
    with FakeSlack() as slack, tempfile.TemporaryDirectory(prefix="studiobot-bench-scale-") as home:
        slack_environ = {
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.base_url,
        }
        os.environ.update({**slack_environ, "STUDIOBOT_HOME": home, "STUDIOBOT_BOT_PORT": str(port)})
        scene = build_scene(Path(home))
        workers = os.cpu_count() or 1
        supervisor = Supervisor(workers=workers, out=sys.stdout)
        info = supervisor.start()
        try:
            use_local_aws(info.endpoint)
            boto3.client("s3").upload_file(str(scene), info.scenes_bucket, SCENE_KEY)
            sqs, sns = boto3.client("sqs"), boto3.client("sns")
            events_url = subscribe_queue(sqs, sns, info.events_topic_arn, "bench-scale-events")
            wait_until_idle([pid for name, pid in _children(supervisor) if name.startswith("render")])
            # 200 frames first: it warms every worker (scene opened, first render done) before the big job.
            runs = {str(frames): _job(slack, port, frames, calls_dir) for frames in sizes}
            completed = _completions(sqs, events_url)
            jobs, store = DynamoJobs(info.table_name), S3Store()
            environ = {**os.environ, **info.environ(), **slack_environ}
            notifier: dict[str, Any] = {}
            for frames in sizes:
                body = completed[frames]
                first = len(slack.calls)
                measured = _notifier_again(body, jobs, store, Path(home), environ, sys.stdout)
                measured["slack_calls_by_method"] = dict(Counter(call.method for call in slack.calls[first:]))
                measured.update(_posted_movie(slack.calls[first:]))
                job = jobs.get(json.loads(body)["job_id"])
                runs[str(frames)]["job_id"] = job.job_id
                runs[str(frames)]["status"] = str(job.status)
                runs[str(frames)]["done"] = job.done
                notifier[str(frames)] = measured
        finally:
            supervisor.stop()
    result.write_text(json.dumps({"render_workers": workers, "jobs": runs, "notifier": notifier}, indent=2))


def _posted_movie(calls: list[Any]) -> dict[str, int]:
    """The movie the thread got: its bytes and its frames as PyAV decodes them (0 and 0 when none came)."""
    import av

    for call in calls:
        if call.method == "upload" and call.body[4:8] == b"ftyp":  # an MP4: the dailies, beside the sheet
            with av.open(io.BytesIO(call.body), mode="r") as container:
                frames = 0
                for _ in container.decode(video=0):  # one at a time: 2,000 decoded frames would be 700 MB
                    frames += 1
            return {"movie_bytes": len(call.body), "movie_frames": frames}
    return {"movie_bytes": 0, "movie_frames": 0}


def _children(supervisor: Any) -> list[tuple[str, int]]:
    return [(name, child.pid) for name, child in supervisor.children.items()]


# ---- the notifier (child process) --------------------------------------------------------------------------


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def notifier_child(event_path: Path, result: Path) -> None:
    """Handle one JobCompleted with the notifier's Lambda handler, as a cold container would; measure around it."""
    from entry import notifier as entry
    from entry import wiring

    body = event_path.read_text()
    notifier = wiring.slack_notifier()  # the container's cold start: settings, services, Slack client
    received: Counter[str] = Counter()

    def count_bytes(http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        key = urllib.parse.unquote(urllib.parse.urlsplit(http_response.url).path)
        received["proxy" if f"/{PROXIES}" in key else "other"] += int(parsed.get("ContentLength", 0))
        received["objects"] += 1

    notifier.services.store.client.meta.events.register("after-call.s3.GetObject", count_bytes)
    movies = _timed_movies()
    rss_before_kb = _status_kb("VmRSS")
    started = time.perf_counter()
    entry.handler({"Records": [{"Sns": {"Message": body}}]}, None)
    seconds = time.perf_counter() - started
    peak_kb = _status_kb("VmHWM")
    measured = {
        "handle_s": round(seconds, 2),
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "rss_before_mb": round(rss_before_kb / 1024, 1),
        "rss_growth_mb": round((peak_kb - rss_before_kb) / 1024, 1),
        "proxy_bytes": received["proxy"],
        "zip_stream_bytes": received["other"],
        "get_object_calls": received["objects"],
        "movie_s": round(sum(movie.seconds for movie in movies), 2),  # making it, proxies' downloads included
    }
    result.write_text(json.dumps(measured))


def _timed_movies() -> list[Any]:
    """Every dailies movie the notifier makes from now on (`backend.render.dailies.Movie`: its frames, bytes and
    the seconds it took, downloads of the proxies included), as it makes them."""
    import bot.dailies

    made: list[Any] = []
    make = bot.dailies.job_movie

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        movie = make(*args, **kwargs)
        made.append(dataclasses.replace(movie, seconds=time.perf_counter() - started))
        return movie

    bot.dailies.job_movie = timed  # type: ignore[assignment]
    return made


# ---- /workstations status (child process) ------------------------------------------------------------------


def _fleet(ec2: Any) -> None:
    """1,000 workstations tagged as the bot finds them: names, 40 owners, one in four stopped."""
    from backend.workstations.ec2 import TAG_NAME, TAG_OWNER

    stopped: list[str] = []
    for start in range(0, WORKSTATIONS, 100):
        reservation = ec2.run_instances(
            ImageId="ami-12c6146b", MinCount=100, MaxCount=100, InstanceType="g5.xlarge"
        )
        for offset, instance in enumerate(reservation["Instances"]):
            number = start + offset
            ec2.create_tags(
                Resources=[instance["InstanceId"]],
                Tags=[
                    {"Key": TAG_NAME, "Value": f"ws-{number:04d}"},
                    {"Key": TAG_OWNER, "Value": f"U0ARTIST{number % OWNERS:02d}"},
                ],
            )
            if number % STOPPED_EVERY == 0:
                stopped.append(instance["InstanceId"])
    ec2.stop_instances(InstanceIds=stopped)


def workstations_child(result: Path) -> None:
    """One `/workstations status` over 1,000 workstations, through the Bolt app, into the fake Slack."""
    from dataclasses import replace

    import boto3
    from moto import mock_aws

    from backend.config import SlackCredentials
    from bot.app import build_app, web_client
    from entry.wiring import Services
    from local.embedded import moto_patches
    from local.embedded.stack import FAKE_CREDENTIALS, deploy
    from testing.slack import FakeSlack, dispatch_signed, slash_command_body

    moto_patches.apply()
    os.environ.pop("AWS_ENDPOINT_URL", None)  # in-process moto: nothing may go to a server
    os.environ.update(FAKE_CREDENTIALS)
    with mock_aws(), FakeSlack() as slack:
        info = deploy(None, stack_name="studiobot-bench-scale")
        _fleet(boto3.client("ec2"))
        settings = replace(info.settings(), slack_api_url=slack.base_url)
        services = Services(settings)
        client = web_client(settings, "xoxb-bench")
        app = build_app(settings, SlackCredentials("xoxb-bench", SECRET), client=client, services=services)
        body = slash_command_body("status", command="/workstations", response_url=slack.response_url())
        started = time.monotonic()
        ack = dispatch_signed(app, body, SECRET)
        acked = time.monotonic()
        slack.wait_for("response_url", timeout=120)
        while time.monotonic() - slack.calls[-1].at < SETTLE_S:  # until nothing more comes
            time.sleep(0.1)
        answered = slack.calls[0].at
    messages = [len(call.body) for call in slack.calls]
    ack_bytes = len((ack.body or "").encode())
    sections = [
        len(block["text"]["text"])
        for call in slack.calls
        for block in call.args.get("blocks") or []
        if isinstance(block, dict) and block.get("type") == "section"
    ]
    largest = max(slack.calls, key=lambda call: len(call.body))
    result.write_text(
        json.dumps(
            {
                "workstations": WORKSTATIONS,
                "ack_ms": round((acked - started) * 1000, 1),
                "ack_bytes": ack_bytes,
                "answer_s": round(answered - started, 2),
                "slack_calls": len(slack.calls),
                "slack_calls_by_method": dict(Counter(call.method for call in slack.calls)),
                "messages": len(messages) + (1 if ack_bytes else 0),
                "bytes_sent": sum(messages) + ack_bytes,
                "largest_message_bytes": max([*messages, ack_bytes]),
                "largest_message_blocks": len(largest.args.get("blocks") or []),
                "longest_section_chars": max(sections, default=0),
                "text": str(largest.args.get("text", ""))[:200],
            }
        )
    )


def main() -> None:
    """`python -m bench.scale jobs|notifier|workstations …`: one measurement, written as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.scale")
    parser.add_argument("what", choices=("jobs", "notifier", "workstations"))
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--event", type=Path, help="notifier: the JobCompleted body to handle")
    parser.add_argument("--frames", type=int, default=FRAMES, help="jobs: the big job's frames")
    parser.add_argument("--small-frames", type=int, default=SMALL_FRAMES, help="jobs: the first job's frames")
    args = parser.parse_args()
    if args.what == "jobs":
        jobs_child(args.result, (args.small_frames, args.frames))
    elif args.what == "notifier":
        notifier_child(args.event, args.result)
    else:
        workstations_child(args.result)


if __name__ == "__main__":
    main()
