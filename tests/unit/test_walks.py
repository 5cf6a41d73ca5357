"""The walk counter (bench/walk_count.py) on a tiny synthetic flow: rooms, room changes, threads, AWS requests."""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from bench.walk_count import Walk

MODULES = {
    "walkhouse/__init__.py": "",
    "walkhouse/hall.py": """
from walkhouse import kitchen
import walkstreet
from walkstand import aws


def visit():
    kitchen.cook()
    kitchen.cook()
    for _ in kitchen.dishes():  # one call, however many dishes
        pass
    walkstreet.call_back(kitchen.cook)  # through a library's frame: still the hall calling the kitchen
    aws.serve(kitchen.cook)  # the AWS stand-in running our code: not the walk's
    _tidy()  # same room


def _tidy():
    return None
""",
    "walkhouse/kitchen.py": """
def cook():
    return _stir()


def _stir():
    return 1


def dishes():
    yield 1
    yield 2
    yield 3
""",
    "walkstreet.py": "def call_back(function):\n    return function()\n",
    "walkstand/__init__.py": "",
    "walkstand/aws.py": "def serve(handler):\n    return handler()\n",
}


class _Body:
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield b"{}"


@pytest.fixture
def house(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Walk, ModuleType]]:
    for name, text in MODULES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    walk = Walk(tmp_path, room_dirs=("walkhouse",), stand_in="/walkstand/")
    yield walk, importlib.import_module("walkhouse.hall")
    walk.uninstall()
    for name in [name for name in sys.modules if name.startswith(("walkhouse", "walkstreet", "walkstand"))]:
        del sys.modules[name]


def test_rooms_and_room_changes_of_a_synthetic_flow(house: tuple[Walk, ModuleType]) -> None:
    walk, hall = house
    hall.visit()  # not counted: outside the block
    with walk.counting() as tally:
        hall.visit()
    assert tally.rooms == {"walkhouse.hall", "walkhouse.kitchen"}
    # cook twice, dishes once (not per dish), cook through the street; nothing run inside the stand-in
    assert tally.hops == {("walkhouse.hall", "walkhouse.kitchen"): 4} and tally.room_changes == 4
    assert tally.entries == {"walkhouse.hall": 1}


def test_a_thread_started_after_install_is_counted(house: tuple[Walk, ModuleType]) -> None:
    walk, _ = house
    walk.install()
    kitchen = sys.modules["walkhouse.kitchen"]
    with walk.counting() as tally:
        worker = threading.Thread(target=kitchen.cook)
        worker.start()
        worker.join()
    assert tally.rooms == {"walkhouse.kitchen"} and tally.entries == {"walkhouse.kitchen": 1}


def test_aws_requests_are_counted_by_operation_only_while_counting(house: tuple[Walk, ModuleType]) -> None:
    walk, _ = house
    sqs = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    sqs.meta.events.register("before-send", lambda request, **_: AWSResponse(request.url, 200, {}, _Body()))
    sqs.list_queues()
    with walk.counting() as tally:
        sqs.list_queues()
        sqs.list_queues()
        with walk.paused():
            sqs.list_queues()
    sqs.list_queues()
    assert tally.aws == {"sqs.ListQueues": 2}
    assert tally.to_dict()["aws_round_trips"] == 2
