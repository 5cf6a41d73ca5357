"""`python -m bench.walks`: three flows walked through the real code (in-process moto, the loopback fake Slack),
counting the modules of ours each enters, the calls between them, and its AWS and Slack round trips.

1. `/render` from the listener to frames queued: a signed command into the Bolt app, until its lazy listener ends.
2. A frame recorded to the completion notice posted: the render worker (a stand-in renderer, no bpy) runs a job's
   last task; the notifier is handed every event SNS delivered meanwhile.
3. The sweep stopping a workstation: one lapsed session, nobody connected.

Each flow runs once untried (a warm container: imports done, services built), then once counted. What each flow
imports sits in bench/walk_code.py, one small function per part, to re-point when the code moves. Counted: the
modules of ours entered (files under backend/, bot/, blender_image/, entry/, local/), the calls from one into another
("room changes"), the HTTP requests botocore sent, by operation, and the calls the fake Slack received, by method.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from bench import walk_code as code
from bench.walk_count import Tally, Walk

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
BEFORE = REPO / "bench" / "walks_before.json"  # main's numbers before issue 24's restructuring
CHANNEL, ARTIST, ADMIN = "C0RENDERS", "U0ARTIST", "U0ADMIN"
HOUR = 3600.0
FLOWS = {
    "render_command": "/render → frames queued",
    "frame_to_notice": "frame recorded → completion notice",
    "sweep_stop": "sweep stops a workstation",
}

# ---- The flows -------------------------------------------------------------------------------------------------


class Clock:
    """Time the sweep's flow moves by hand (and the asker's waits move)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Farm:
    """The deployed stack in moto, the fake Slack, and what every flow shares."""

    settings: Any
    slack: Any
    aws: Any  # boto3 clients by service, for the harness's own setup and checks
    notifications_url: str

    def put_scene(self, name: str) -> None:
        key = f"{self.settings.scenes_prefix}{name}"
        self.aws["s3"].put_object(
            Bucket=self.settings.scenes_bucket, Key=key, Body=b"BLENDER-v500 not really"
        )

    def drain(self, queue_url: str) -> list[str]:
        """Take every message off a queue; their bodies."""
        bodies: list[str] = []
        while (
            messages := self.aws["sqs"]
            .receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
            .get("Messages", [])
        ):
            for message in messages:
                bodies.append(message["Body"])
                self.aws["sqs"].delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return bodies


def _launch(ec2: Any, name: str, tags: dict[str, str]) -> None:
    """A workstation whose SSM agent answers (its instance profile)."""
    ec2.run_instances(
        ImageId="ami-12c6146b",
        MinCount=1,
        MaxCount=1,
        InstanceType="g5.xlarge",
        IamInstanceProfile={"Name": "studiobot-workstation"},
        TagSpecifications=[
            {
                "ResourceType": "instance",
                "Tags": [{"Key": tags["name"], "Value": name}, {"Key": tags["owner"], "Value": "U0ANNA"}],
            }
        ],
    )


@contextmanager
def _counted(farm: Farm, walk: Walk) -> Iterator[Tally]:
    """Count the block's walk, and the Slack calls the fake received meanwhile."""
    seen = len(farm.slack.calls)
    with walk.counting() as tally:
        yield tally
    tally.slack.update(call.method for call in farm.slack.calls[seen:])


def _command(farm: Farm, app: Any, text: str, trigger: str) -> None:
    """A signed `/render` into the app; back when its lazy listener has ended."""
    helpers = code.fake_slack()
    lazy = app.listener_runner.lazy_listener_runner
    lazy.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lazy")  # to wait for, below
    body = helpers.slash_command_body(
        text,
        user_id=ARTIST,
        channel_id=CHANNEL,
        response_url=farm.slack.response_url(trigger),
        trigger_id=trigger,
    )
    response = helpers.dispatch_signed(app, body, code.SECRET)
    if response.status != 200:
        raise RuntimeError(f"/render {text} was answered {response.status}: {response.body}")
    lazy.executor.shutdown(wait=True)


def render_command(farm: Farm, walk: Walk) -> Tally:
    """Flow 1: `/render walk/shot.blend 1-24` from the listener to its 24 frames on the queue."""
    app = code.render_listener(farm.settings, code.composition_root(farm.settings))
    for name in ("warm", "walk"):
        farm.put_scene(f"{name}/shot.blend")
    _command(farm, app, "warm/shot.blend 1-24 --res 64x36", "warm-1")
    farm.drain(farm.settings.render_queue_url)
    with _counted(farm, walk) as tally:
        _command(farm, app, "walk/shot.blend 1-24 --res 64x36", "walk-1")
    if (queued := len(farm.drain(farm.settings.render_queue_url))) != 24:
        raise RuntimeError(f"the /render walk queued {queued} frames, not 24: it did not reach its end")
    return tally


def frame_to_notice(farm: Farm, walk: Walk) -> Tally:
    """Flow 2: a two-frame job's last frame recorded, through to its completion notice in the card's thread."""
    services = code.composition_root(farm.settings)
    app = code.render_listener(farm.settings, services)
    notify = code.notifier(farm.settings, services)
    farm.drain(farm.notifications_url)
    with TemporaryDirectory(prefix="walks-") as work:
        run_task = code.render_worker(services, Path(work))
        for name in ("warm2", "walk2"):
            farm.put_scene(f"{name}/shot.blend")
            _command(farm, app, f"{name}/shot.blend 1-2 --res 64x36", f"{name}-1")
            first, last = farm.drain(farm.settings.render_queue_url)
            run_task(first)
            for message in farm.drain(farm.notifications_url):
                notify(message)
            posted = len(farm.slack.calls_to("files.completeUploadExternal"))
            with _counted(farm, walk) if name == "walk2" else nullcontext(Tally()) as tally:
                run_task(last)
                with walk.paused():  # SNS delivering to the notifier: not our code
                    delivered = farm.drain(farm.notifications_url)
                for message in delivered:
                    notify(message)
            if len(farm.slack.calls_to("files.completeUploadExternal")) != posted + 1:
                raise RuntimeError(f"{name}: no completion notice was posted: the walk did not reach its end")
    return tally


def sweep_stop(farm: Farm, walk: Walk) -> Tally:
    """Flow 3: the sweep finding one lapsed session nobody uses, and stopping its workstation."""
    clock = Clock()
    services, sweep, tags = code.sweep(farm.settings, clock)
    farm.aws["iam"].create_instance_profile(InstanceProfileName="studiobot-workstation")
    for name in ("warm-00", "walk-00"):  # the first lapses and is stopped by the untried sweep
        _launch(farm.aws["ec2"], name, tags)
        services.workstations.status()  # a lease begins when the service first sees its session
        clock.now += 11.5 * HOUR + 60
        stopped = sweep().stopped if name == "warm-00" else None
        if stopped is not None and stopped != [name]:
            raise RuntimeError(f"the untried sweep stopped {stopped}, not {name}")
    with _counted(farm, walk) as tally:
        report = sweep()
    if report.stopped != ["walk-00"]:
        raise RuntimeError(f"the sweep stopped {report.stopped}, not walk-00: the walk did not reach its end")
    return tally


# ---- Running, printing, writing ---------------------------------------------------------------------------------


def _environment() -> None:
    """Fake AWS credentials, quiet logs; never a real endpoint (as tests/conftest.py sets them)."""
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_SERVICE_NAME": "studiobot-bench",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_NAMESPACE": "studiobot-bench",
        }
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("AWS_PROFILE", None)


def run() -> dict[str, Any]:
    """Walk the three flows; walks.json."""
    _environment()
    import boto3
    from moto import mock_aws

    walk = Walk(REPO)
    walk.install()  # before any thread we count in starts
    apply_patches, deploy = code.embedded_aws()
    apply_patches()
    flows: dict[str, Any] = {}
    with mock_aws(), code.fake_slack().FakeSlack() as slack:
        info = deploy(None)
        helpers = code.fake_slack()
        deployed = info.settings(progress_interval_s=5.0)
        settings = replace(
            deployed,
            slack_api_url=slack.base_url,
            access=replace(deployed.access, admins=frozenset({ADMIN})),
            slack_team_id=helpers.TEAM["team_id"],
            slack_app_id=helpers.APP_ID,
            card_update_interval_s=0.0,  # the notifier's spacing of card updates: no waiting here
        )
        aws = {name: boto3.client(name) for name in ("s3", "sqs", "ec2", "iam")}
        farm = Farm(settings, slack, aws, info.notifications_queue_url)
        for name, flow in (
            ("render_command", render_command),
            ("frame_to_notice", frame_to_notice),
            ("sweep_stop", sweep_stop),
        ):
            started = time.perf_counter()
            tally = flow(farm, walk)  # wall_s: its setup, the untried run and the counted one
            flows[name] = {
                "walk": FLOWS[name],
                **tally.to_dict(),
                "wall_s": round(time.perf_counter() - started, 2),
            }
    return {"commit": _commit(), "flows": flows}


def _commit() -> str:
    """The commit walked (`-dirty`: with changes not committed)."""
    described = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True, text=True, check=False
    )
    return described.stdout.strip()


def _was(now: int, before: dict[str, Any] | None, key: str) -> str:
    return str(now) if before is None else f"{now} (was {before.get(key, '?')})"


def _kinds(counts: dict[str, int]) -> str:
    return "\n".join(f"{kind} {count}" for kind, count in counts.items()) or "–"


def table(result: dict[str, Any], before: dict[str, Any] | None = None) -> Any:
    """The walks as one table (with the numbers of `before`, main's before the restructuring, where given)."""
    from rich.table import Table

    title = f"Walks at {result['commit']}" + (f", before: {before['commit']}" if before else "")
    out = Table(title=title, show_lines=True)
    out.add_column("flow", max_width=22)
    for column in ("rooms entered", "room changes", "AWS round trips"):
        out.add_column(column, justify="right")
    out.add_column("AWS by kind", no_wrap=True)
    out.add_column("Slack calls", no_wrap=True)
    for name, flow in result["flows"].items():
        was = (before or {}).get("flows", {}).get(name) if before else None
        out.add_row(
            flow["walk"],
            _was(flow["rooms_entered"], was, "rooms_entered"),
            _was(flow["room_changes"], was, "room_changes"),
            _was(flow["aws_round_trips"], was, "aws_round_trips"),
            _kinds(flow["aws_by_kind"]),
            _was(flow["slack_calls"], was, "slack_calls") + "\n" + _kinds(flow["slack_by_method"]),
        )
    return out


def main(argv: list[str] | None = None) -> None:
    """Walk, print the table, write bench/results/walks.json."""
    parser = argparse.ArgumentParser(prog="python -m bench.walks", description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, default=BEFORE, help="a walks.json to compare with")
    args = parser.parse_args(argv)
    from rich.console import Console

    started = time.perf_counter()
    result = run()
    result["wall_s"] = round(time.perf_counter() - started, 1)
    before = json.loads(args.before.read_text()) if args.before.is_file() else None
    Console(highlight=False, width=150).print(table(result, before))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "walks.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"rooms and hops by pair: {(RESULTS / 'walks.json').relative_to(REPO)} ({result['wall_s']} s)")


if __name__ == "__main__":
    main()
