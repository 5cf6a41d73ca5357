"""Render node entry point (`python -m entry.node --class gpu`, `studiobot node`): the render image's second
command. It builds the node from the composition root, drains it on SIGTERM or a Spot notice, and says it is there
while it runs (`blender_image.node` holds the node itself)."""

from __future__ import annotations

import os
import socket

from backend.render.tasks import GPU, RENDER_CLASSES
from entry import wiring


def main(argv: list[str] | None = None) -> int:
    """`python -m entry.node --class gpu`: the render image's second command, and `studiobot node`."""
    import argparse

    from blender_image.node import on_sigterm
    from blender_image.presence import present
    from blender_image.spot import SpotWatch

    parser = argparse.ArgumentParser(prog="python -m entry.node")
    parser.add_argument("--class", dest="render_class", choices=RENDER_CLASSES, default=GPU)
    parser.add_argument(
        "--idle-exit", type=float, default=300.0, help="leave after this long with the queue empty (0: never)"
    )
    parser.add_argument("--name", default=socket.gethostname())
    args = parser.parse_args(argv)
    idle_exit_s = args.idle_exit if args.idle_exit > 0 else float("inf")
    node = wiring.render_node(args.render_class, args.name, idle_exit_s)
    if node is None:
        print(f"studiobot node: this deployment has no `{args.render_class}` queue (STUDIOBOT_GPU_QUEUE_URL)")
        return 2
    on_sigterm(node)
    services = wiring.from_env()
    if services.settings.imds_endpoint:
        SpotWatch(lambda deadline: node.drain(deadline, "Spot"), services.settings.imds_endpoint).start()
    print(f"ready node {args.name} {args.render_class} {os.getpid()}", flush=True)
    with present(services.roster, args.render_class, args.name):  # a `--on gpu` job counts on it meanwhile
        done = node.run()
    print(f"node {args.name}: {done} tasks, leaving", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
