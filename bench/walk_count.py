"""Counting one walk through our code: the modules it enters ("rooms"), the calls from one to another, its AWS round
trips. Python 3.11 has no `sys.monitoring`: a profile function sees every call, in this thread and in threads
started after `Walk.install()` (Bolt's lazy listeners, boto3's transfer threads)."""

from __future__ import annotations

import dis
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

from botocore import history

ROOM_DIRS = (
    "backend",
    "bot",
    "blender_image",
    "entry",
    "local",
)  # our code; tests/ and bench/ are the harness
STAND_IN = (
    "/moto/"  # code run inside the AWS stand-in: our code it calls (local/moto_patches) is the stand-in too
)
_RESUMABLE = 0x20 | 0x80 | 0x200  # CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR
_OUTSIDE = ""  # a file that is not ours
_IN_STAND_IN = "\0stand-in"


@dataclass
class Tally:
    """What one walk did."""

    rooms: set[str] = field(default_factory=set)
    hops: Counter[tuple[str, str]] = field(default_factory=Counter)  # (from room, to room) → calls
    entries: Counter[str] = field(
        default_factory=Counter
    )  # room → calls from outside our code (Bolt, the harness)
    aws: Counter[str] = field(
        default_factory=Counter
    )  # "service.Operation" → HTTP requests sent (retries too)
    slack: Counter[str] = field(
        default_factory=Counter
    )  # Web API method → calls (counted by the walk's caller)

    @property
    def room_changes(self) -> int:
        """Calls from one of our modules into another (through library frames or not)."""
        return sum(self.hops.values())

    def to_dict(self) -> dict[str, Any]:
        """The walk as JSON."""
        return {
            "rooms_entered": len(self.rooms),
            "room_changes": self.room_changes,
            "aws_round_trips": sum(self.aws.values()),
            "aws_by_kind": dict(sorted(self.aws.items())),
            "slack_calls": sum(self.slack.values()),
            "slack_by_method": dict(sorted(self.slack.items())),
            "rooms": sorted(self.rooms),
            "hops": {f"{a} -> {b}": n for (a, b), n in sorted(self.hops.items())},
            "entries_from_outside": dict(sorted(self.entries.items())),
        }


class Walk:
    """Counts what the code does inside `counting()`; nothing outside it."""

    def __init__(self, root: Path, room_dirs: tuple[str, ...] = ROOM_DIRS, stand_in: str = STAND_IN) -> None:
        self.root = root.resolve()
        self.room_dirs = room_dirs
        self.stand_in = stand_in
        self.tally: Tally | None = None
        self._kinds: dict[str, str] = {}
        self._first_resume: dict[CodeType, int] = {}
        self._lock = threading.Lock()
        self._operation = threading.local()
        self._installed = False

    def install(self) -> None:
        """Watch threads started from now on, and every botocore request; idle until `counting()`."""
        if self._installed:
            return
        threading.setprofile(self._profile)
        recorder = history.get_global_history_recorder()
        recorder.add_handler(_AwsLog(self))
        recorder.enable()
        self._installed = True

    def uninstall(self) -> None:
        """Stop watching new threads (the botocore history handler stays, idle outside `counting()`)."""
        threading.setprofile(None)  # type: ignore[arg-type]
        self._installed = False

    @contextmanager
    def counting(self) -> Iterator[Tally]:
        """Count the walk run inside the block."""
        self.install()
        self.tally = tally = Tally()
        previous = sys.getprofile()
        sys.setprofile(self._profile)
        try:
            yield tally
        finally:
            sys.setprofile(previous)
            self.tally = None

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Not part of the walk: the harness's own work between two of its steps (reading what SNS delivers)."""
        tally, self.tally = self.tally, None
        try:
            yield
        finally:
            self.tally = tally

    def room_of(self, filename: str) -> str:
        """The dotted module of one of our files; "" for any other file."""
        kind = self._kinds.get(filename)
        if kind is None:
            kind = self._kinds[filename] = self._classify(filename)
        return kind

    def _classify(self, filename: str) -> str:
        if self.stand_in in filename.replace("\\", "/"):
            return _IN_STAND_IN
        if filename.startswith("<"):
            return _OUTSIDE
        try:
            relative = Path(filename).resolve().relative_to(self.root)
        except ValueError:
            return _OUTSIDE
        if relative.parts[0] not in self.room_dirs or relative.suffix != ".py":
            return _OUTSIDE
        parts = relative.with_suffix("").parts
        return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)

    def _profile(self, frame: FrameType, event: str, arg: Any) -> None:
        tally = self.tally
        if tally is None or event != "call":
            return
        room = self.room_of(frame.f_code.co_filename)
        if not room or room == _IN_STAND_IN or self._resumed(frame):
            return
        caller = ""
        back = frame.f_back
        while back is not None:  # the whole stack: our code run by the AWS stand-in is not the walk's
            kind = self.room_of(back.f_code.co_filename)
            if kind == _IN_STAND_IN:
                return
            if kind and not caller:
                caller = kind
            back = back.f_back
        with self._lock:
            tally.rooms.add(room)
            if not caller:
                tally.entries[room] += 1
            elif caller != room:
                tally.hops[(caller, room)] += 1

    def _resumed(self, frame: FrameType) -> bool:
        """A generator taken up again after a yield: one call, however many items it hands out."""
        code = frame.f_code
        if not code.co_flags & _RESUMABLE:
            return False
        first = self._first_resume.get(code)
        if first is None:
            offsets = [i.offset for i in dis.get_instructions(code) if i.opname == "RESUME"]
            first = self._first_resume[code] = offsets[0] if offsets else -1
        return frame.f_lasti != first

    def _aws(self, event_type: str, payload: dict[str, Any]) -> None:
        if event_type == "API_CALL":  # then one HTTP_REQUEST per attempt, in the same thread
            self._operation.name = f"{payload.get('service')}.{payload.get('operation')}"
        elif event_type == "HTTP_REQUEST" and (tally := self.tally) is not None:
            with self._lock:
                tally.aws[getattr(self._operation, "name", "unknown")] += 1


class _AwsLog(history.BaseHistoryHandler):  # type: ignore[misc]
    """botocore's history: every API call (with its service and operation) and every HTTP request it sends."""

    def __init__(self, walk: Walk) -> None:
        self.walk = walk

    def emit(self, event_type: str, payload: Any, source: str) -> None:
        """Pass one record on to the walk."""
        if isinstance(payload, dict):
            self.walk._aws(event_type, payload)
