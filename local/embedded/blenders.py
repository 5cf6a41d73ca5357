"""The local stack's Blenders (`studiobot up --blender 4.5,5.0`): a queue per lane for each version other than 5.0,
and the command of a render worker of each version, run by that version's own Python (`local.blender_envs`).

5.0's classes keep the queues `infra/resources.yml` makes (and their names), so a one-version stack is today's. Another
version's lanes are made here like 5.0's (`<render queue>-blender45`, `-urgent`, `-low`), with 5.0's attributes and
its dead-letter queue: the dead-letter worker records a failed frame the same way whatever rendered it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from backend.render.blenders import DEFAULT_BLENDER
from backend.render.lanes import LANES, blender_class, queue_suffix
from backend.render.tasks import CPU
from local.blender_envs import python_of

_COPIED = ("VisibilityTimeout", "MessageRetentionPeriod", "RedrivePolicy")


def make_queues(sqs: Any, render_queue_url: str, blenders: Sequence[str]) -> dict[str, dict[str, str]]:
    """Each other Blender's `cpu` class: lane → queue URL, made like the render queue (`render_queue_url`)."""
    if all(version == DEFAULT_BLENDER for version in blenders):
        return {}  # 5.0 alone: today's stack, not one call more
    attributes = sqs.get_queue_attributes(QueueUrl=render_queue_url, AttributeNames=list(_COPIED))[
        "Attributes"
    ]
    copied = {name: attributes[name] for name in _COPIED if name in attributes}
    base = render_queue_url.rsplit("/", 1)[-1]
    classes: dict[str, dict[str, str]] = {}
    for version in blenders:
        if version == DEFAULT_BLENDER:
            continue
        name = base + queue_suffix(version)
        classes[blender_class(CPU, version)] = {
            lane: sqs.create_queue(
                QueueName=name if lane == "normal" else f"{name}-{lane}", Attributes=copied
            )["QueueUrl"]
            for lane in LANES
        }
    return classes


def worker_command(kind: str, blender: str = "") -> list[str]:
    """A local worker of `kind`; a render worker of another Blender than 5.0 runs in that version's Python."""
    if kind != "render" or blender in ("", DEFAULT_BLENDER):
        return [str(python_of(DEFAULT_BLENDER)), "-m", "local.embedded.worker", kind]
    return [str(python_of(blender)), "-m", "local.embedded.worker", kind, "--blender", blender]


def worker_names(blenders: Sequence[str], count: int) -> list[tuple[str, str]]:
    """(name, version) of each render worker: `render-1` … for 5.0 (today's names), `render-4.5-1` … for others."""
    return [
        (f"render-{index + 1}" if version == DEFAULT_BLENDER else f"render-{version}-{index + 1}", version)
        for version in blenders
        for index in range(count)
    ]
