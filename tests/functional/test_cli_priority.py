"""`studiobot render … --priority urgent` on the local stack: the job's tasks wait in the urgent lane."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import boto3
import pytest

from local.embedded.stack import REPO_ROOT
from tests.functional.cli_stack import CliStack, cli_stack

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliStack]:
    with cli_stack(tmp_path_factory.mktemp("priority") / ".studiobot") as running:
        yield running


def _held(cli: CliStack, url: str) -> int:
    sqs = boto3.client("sqs", endpoint_url=cli.info.endpoint)
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def test_the_cli_sends_an_urgent_render_to_the_urgent_lane(cli: CliStack) -> None:
    s3 = boto3.client("s3", endpoint_url=cli.info.endpoint)
    s3.put_object(Bucket=cli.info.scenes_bucket, Key="scenes/shot.blend", Body=b"BLENDER-v500 not really")
    urgent = cli.info.settings().lanes.render_urgent_url
    env = {**os.environ, "STUDIOBOT_HOME": str(cli.home), "COLUMNS": "200", "PYTHONPATH": str(REPO_ROOT)}
    env.pop("AWS_ENDPOINT_URL", None)
    # WHEN a person renders with `--priority urgent` (it then watches the job: no workers here, so it is stopped)
    words = ["render", "scenes/shot.blend", "1-3", "--priority", "urgent"]
    command = [sys.executable, "-c", "from local.cli.main import main; main()", *words]
    watching = subprocess.Popen(command, env=env, cwd=cli.home.parent, stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while _held(cli, urgent) < 3 and time.monotonic() < deadline and watching.poll() is None:
            time.sleep(0.2)
        # THEN its three tasks wait in the urgent lane, and none in the normal one
        assert _held(cli, urgent) == 3
        assert _held(cli, cli.info.render_queue_url) == 0
    finally:
        watching.terminate()
        watching.communicate(timeout=30)


def test_the_cli_refuses_a_wrong_priority_naming_the_three(cli: CliStack) -> None:
    refused = cli.run("render", "scenes/shot.blend", "1-3", "--priority", "asap")
    said = " ".join((refused.stdout + refused.stderr).split())
    assert (
        refused.returncode == 1
        and "`--priority asap` is not a priority: use `urgent`, `normal` or `low`." in said
    )
