"""Counts every AWS API call of each process `bench.scale` starts, render workers included (off unless asked).

Python imports `sitecustomize` at start-up from anywhere on its path, so with this folder on PYTHONPATH it runs in the
benchmark's stack process and in every worker the stack's supervisor spawns (they inherit its environment): the way
coverage.py measures subprocesses. It does nothing unless `STUDIOBOT_BENCH_CALLS_DIR` names a folder.

Each botocore client made in the process gets a `before-call` hook (fired once per API call, not per HTTP retry);
the counts, by `service.Operation`, are written to `<folder>/<pid>.json` every 0.2 s and at exit, with the process's
`argv` so the reader can tell a render worker from the stack.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ENV_CALLS_DIR = "STUDIOBOT_BENCH_CALLS_DIR"
DUMP_EVERY_S = 0.2


def _install(folder: Path) -> None:
    import botocore.session

    counts: Counter[str] = Counter()
    lock, dump_lock = threading.Lock(), threading.Lock()
    path = folder / f"{os.getpid()}.json"
    written: dict[str, int] = {}

    def count(model: Any, **_: Any) -> None:
        with lock:
            counts[f"{model.service_model.service_name}.{model.name}"] += 1

    create_client = botocore.session.Session.create_client

    def counted_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = create_client(self, *args, **kwargs)
        client.meta.events.register("before-call", count)
        return client

    botocore.session.Session.create_client = counted_client  # type: ignore[method-assign]

    def dump() -> None:
        with lock:
            snapshot = dict(counts)
        with dump_lock:  # the exit's dump and the thread's never write the same file at once
            if not snapshot or snapshot == written:
                return
            partial = path.with_suffix(".part")
            partial.write_text(json.dumps({"pid": os.getpid(), "argv": sys.argv, "calls": snapshot}))
            partial.replace(path)
            written.clear()
            written.update(snapshot)

    def keep_dumping() -> None:
        while True:
            time.sleep(DUMP_EVERY_S)
            dump()

    threading.Thread(target=keep_dumping, name="bench-calls", daemon=True).start()
    atexit.register(dump)


if os.environ.get(ENV_CALLS_DIR):
    _install(Path(os.environ[ENV_CALLS_DIR]))
