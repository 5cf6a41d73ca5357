"""One packaging at a time on a checkout: osls and the layer build write `infra/.serverless/` and `infra/.build/`,
so a second `make package` (or a test run spread over several processes) waits for the first instead of deleting
the files it is writing."""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_held = threading.local()  # how deep this thread is inside the lock (packaging builds the layer inside it)


@contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    """Hold `lock_file` (an advisory lock other processes and threads wait on) for the block; re-entrant."""
    if getattr(_held, "depth", 0):
        _held.depth += 1
        try:
            yield
        finally:
            _held.depth -= 1
        return
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        _held.depth = 1
        try:
            yield
        finally:
            _held.depth = 0
            fcntl.flock(handle, fcntl.LOCK_UN)
