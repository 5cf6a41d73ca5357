"""`--on gpu` never waits in silence: where no node is there and none can be started, it is refused at once."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from backend.render.store.roster import FRESH_S, NO_GPU_NODE, NodeRoster
from blender_image.presence import present
from tests.functional.cli_stack import CliStack, cli_stack

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliStack]:
    with cli_stack(tmp_path_factory.mktemp("gpu") / ".studiobot") as running:
        yield running


def _roster(cli: CliStack, clock: object = None) -> NodeRoster:
    client = boto3.client("dynamodb", endpoint_url=cli.info.endpoint)
    return NodeRoster(cli.info.table_name, client=client, **({"clock": clock} if clock else {}))


def _queued(cli: CliStack) -> str:
    sqs = boto3.client("sqs", endpoint_url=cli.info.endpoint)
    attributes = sqs.get_queue_attributes(
        QueueUrl=cli.info.gpu_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return str(attributes["Attributes"]["ApproximateNumberOfMessages"])


@pytest.mark.bpy
def test_gpu_with_no_node_on_the_local_stack_is_refused_saying_how_to_get_one(
    cli: CliStack, shots: Path, tmp_path: Path
) -> None:
    shutil.copytree(shots / "textured", tmp_path / "gpushot")
    scene = str(tmp_path / "gpushot" / "shot.blend")
    refused = cli.run("render", scene, "1", "--on", "gpu", timeout=60)  # on main: queued, waiting for ever
    said = " ".join((refused.stdout + refused.stderr).split())
    assert refused.returncode == 1 and NO_GPU_NODE in said, said
    assert "studiobot up --nodes 1 --class gpu" in said and "studiobot node --class gpu" in said
    assert _queued(cli) == "0"

    # GIVEN an own machine joined (`studiobot node --class gpu` says it is there while it runs)
    roster = _roster(cli)
    with present(roster, "gpu", "anna-ws"):
        planned = cli.run("render", scene, "1", "--on", "gpu", "--dry-run", timeout=60)
        assert planned.returncode == 0 and "Dry run" in planned.stdout, planned.stdout + planned.stderr
    # WHEN it leaves, THEN nothing counts on it
    assert roster.present("gpu") == []
    again = cli.run("render", scene, "1", "--on", "gpu", "--dry-run", timeout=60)
    assert again.returncode == 1 and NO_GPU_NODE in " ".join(again.stdout.split())


def test_a_node_not_heard_from_for_three_beats_has_gone(cli: CliStack) -> None:
    now = [1_000_000.0]
    roster = _roster(cli, clock=lambda: now[0])
    roster.seen("gpu", "killed-node")
    roster.seen("cpu", "cpu-node")
    assert roster.present("gpu") == ["killed-node"]
    now[0] += FRESH_S + 1
    assert roster.present("gpu") == []


class FailingRoster:
    """A roster an own machine's older policy may not write: the node renders anyway."""

    def __init__(self) -> None:
        self.tries = threading.Event()

    def seen(self, render_class: str, name: str) -> None:
        self.tries.set()
        raise RuntimeError("AccessDenied")

    def left(self, render_class: str, name: str) -> None:
        raise RuntimeError("AccessDenied")


def test_a_roster_that_cannot_be_written_never_stops_the_node() -> None:
    roster = FailingRoster()
    with present(roster, "gpu", "old-policy", beat_s=0.01):
        assert roster.tries.wait(5)
