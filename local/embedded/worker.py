"""A local worker process: `python -m local.embedded.worker render|dlq` polls its queue and calls the Lambda handler;
`python -m local.embedded.worker node …` is the product's render node (`entry.node`), leaving with its stack too."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from importlib.metadata import version

import boto3

from backend.config import (
    ENV_GPU_DLQ_URL,
    ENV_LOCAL_RETRY_DELAY,
    ENV_LOCAL_VISIBILITY_TIMEOUT,
    ENV_RENDER_DLQ_URL,
    ENV_RENDER_TIMEOUT,
    Settings,
)
from backend.render.blenders import DEFAULT_BLENDER, short
from backend.render.lanes import LANES, blender_class
from backend.render.tasks import CPU
from local.embedded.poller import Handler, QueuePoller
from local.embedded.stack import STACK_GONE


def exit_with_parent(parent_pid: int, poll_s: float = 0.5) -> None:
    """Exit once the supervisor that started this worker is gone (it was killed): an orphan could only render
    frames no stack records. The next `studiobot up` starts new workers, and the task comes back to them."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(poll_s)
        os._exit(1)

    threading.Thread(target=watch, name="parent", daemon=True).start()


def _blender(options: list[str]) -> str:
    """`--blender 4.5`: the Blender this worker renders with, checked against the bpy it imports."""
    if "--blender" not in options:
        return ""
    wanted = options[options.index("--blender") + 1]
    found = short(version("bpy"))
    if found != wanted:
        raise SystemExit(
            f"this worker was asked for Blender {wanted} but its Python has bpy {version('bpy')}"
        )
    return wanted


def main(kind: str, options: list[str] | None = None) -> None:
    exit_with_parent(os.getppid())
    if kind == "node":  # a node on its own retries a stack that is gone for ever, Blender warm (≈ 500 MB)
        from entry.node import main as run_node

        sys.exit(run_node(options or []))
    if kind == "render":
        from entry import wiring
        from local.embedded.render_behind import (
            handler_behind,
        )  # a task's last frame delivered behind the next

        handler: Handler = handler_behind

        blender = _blender(options or [])
        wiring.render_worker()  # import bpy now, so the first task does not pay for it
        settings = Settings.from_env()  # its lanes, urgent first: taken in that order at every receive
        if blender in ("", DEFAULT_BLENDER):
            queue_urls = list(settings.lanes.urls(settings.render_queue_url, gpu=False).values())
        else:  # another Blender's class: its own lanes, never 5.0's
            lanes = settings.lanes.versioned[blender_class(CPU, blender)]
            queue_urls = [lanes[lane] for lane in LANES if lane in lanes]
    elif kind in ("dlq", "dlq-gpu"):
        from entry.dead_letters import handler as dead_letters

        handler = dead_letters

        queue_urls = [os.environ[ENV_RENDER_DLQ_URL if kind == "dlq" else ENV_GPU_DLQ_URL]]
    else:
        raise SystemExit(f"unknown worker kind {kind!r}: use render, dlq or node")
    poller = QueuePoller(
        boto3.client("sqs"),
        queue_urls,
        handler,
        function_name=f"studiobot-local-{kind}",
        batch_size=1 if kind == "render" else 10,
        visibility_timeout_s=int(os.environ.get(ENV_LOCAL_VISIBILITY_TIMEOUT, "120")),
        retry_delay_s=int(os.environ.get(ENV_LOCAL_RETRY_DELAY, "2")),
        timeout_s=float(os.environ.get(ENV_RENDER_TIMEOUT, "900")) if kind == "render" else 60.0,
    )
    # SIGTERM finishes the task in hand, then exits: nothing is lost on `studiobot down`.
    signal.signal(signal.SIGTERM, lambda *_: poller.stop())
    signal.signal(signal.SIGINT, lambda *_: poller.stop())
    print(f"ready {kind} {os.getpid()}", flush=True)
    try:
        poller.run()
    except STACK_GONE:  # its supervisor was killed and took moto with it
        print(f"{kind} {os.getpid()}: the stack's AWS stopped answering; exiting", flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "render", sys.argv[2:])
