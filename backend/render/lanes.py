"""Priority lanes: each render class has an urgent, a normal and a low queue, served strictly in that order.

Render nodes and the local stack's workers take the lanes in order at every receive (`receive_in_order`). On AWS the
render Lambda has one SQS event source per lane, which Lambda polls independently; `LaneScheduler` moves its
capacity: while a lane holds any message (visible, in flight or delayed) the event sources of the lanes below it
are disabled, and they are enabled again once every lane above is empty. It runs after each fan-out that queues
urgent or normal work and in the renders' sweep.

This module imports nothing of the job records: `backend.config` reads its settings, and the records import config.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools import Logger

from backend.render.blenders import DEFAULT_BLENDER, parse_versions
from backend.render.tasks import CPU, GPU

if TYPE_CHECKING:
    from backend.config import Settings
    from backend.render.ports import TaskQueue

logger = Logger(service="studiobot-lanes")
RENDER_BASE = (
    CPU,
    GPU,
)  # the classes of the default Blender (5.0): their normal lane is the class's own queue
LANES = (
    "urgent",
    "normal",
    "low",
)  # `records.Priority`'s values, in the order they are served (records imports
# config, which imports this module: the values are written out here)
# Each class's queue is its normal lane; these name the other two, and the function whose event sources they feed.
ENV_RENDER_URGENT_QUEUE_URL = "STUDIOBOT_RENDER_URGENT_QUEUE_URL"
ENV_RENDER_LOW_QUEUE_URL = "STUDIOBOT_RENDER_LOW_QUEUE_URL"
ENV_GPU_URGENT_QUEUE_URL = "STUDIOBOT_GPU_URGENT_QUEUE_URL"
ENV_GPU_LOW_QUEUE_URL = "STUDIOBOT_GPU_LOW_QUEUE_URL"
ENV_RENDER_FUNCTION = "STUDIOBOT_RENDER_FUNCTION"  # "" on the local stack: it has no Lambda to switch
# The Blenders the farm runs (`4.5,5.0`; default 5.0), and the lanes of every class of a version other than 5.0 (JSON:
# `cpu-4.5` → lane → queue URL): 5.0's classes keep their queues and names above.
ENV_BLENDER_VERSIONS = "STUDIOBOT_BLENDER_VERSIONS"
ENV_BLENDER_QUEUES = "STUDIOBOT_BLENDER_QUEUES"
# A node's long poll of its normal lane when idle: urgent or low work queued meanwhile waits at most this long.
POLL_WAIT_S = 5


@dataclass(frozen=True)
class LaneSettings:
    """The urgent and low lanes of each class ("" where not deployed: its tasks go to the normal lane)."""

    render_urgent_url: str = ""
    render_low_url: str = ""
    gpu_urgent_url: str = ""
    gpu_low_url: str = ""
    render_function: str = ""
    blenders: tuple[str, ...] = (DEFAULT_BLENDER,)  # the farm's Blenders, oldest first
    versioned: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # `cpu-4.5` → lane → queue URL

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LaneSettings:
        """From the environment `backend.config` hands in."""
        return cls(
            render_urgent_url=env.get(ENV_RENDER_URGENT_QUEUE_URL, ""),
            render_low_url=env.get(ENV_RENDER_LOW_QUEUE_URL, ""),
            gpu_urgent_url=env.get(ENV_GPU_URGENT_QUEUE_URL, ""),
            gpu_low_url=env.get(ENV_GPU_LOW_QUEUE_URL, ""),
            render_function=env.get(ENV_RENDER_FUNCTION, ""),
            blenders=parse_versions(env.get(ENV_BLENDER_VERSIONS) or DEFAULT_BLENDER),
            versioned=json.loads(env.get(ENV_BLENDER_QUEUES) or "{}"),
        )

    def to_env(self) -> dict[str, str]:
        """The environment `from_env` reads these from."""
        return {
            ENV_RENDER_URGENT_QUEUE_URL: self.render_urgent_url,
            ENV_RENDER_LOW_QUEUE_URL: self.render_low_url,
            ENV_GPU_URGENT_QUEUE_URL: self.gpu_urgent_url,
            ENV_GPU_LOW_QUEUE_URL: self.gpu_low_url,
            ENV_RENDER_FUNCTION: self.render_function,
            ENV_BLENDER_VERSIONS: ",".join(self.blenders),
            ENV_BLENDER_QUEUES: json.dumps(dict(self.versioned), sort_keys=True) if self.versioned else "",
        }

    def deploys(self, render_class: str, blender: str) -> bool:
        """Whether the farm has queues for that class of that Blender (5.0's classes always)."""
        versioned = blender_class(render_class, blender)
        return versioned in RENDER_BASE or versioned in self.versioned

    def urls(self, normal_url: str, gpu: bool) -> dict[str, str]:
        """Lane → queue URL for one class, urgent first; a lane not deployed is left out."""
        urgent, low = (
            (self.gpu_urgent_url, self.gpu_low_url) if gpu else (self.render_urgent_url, self.render_low_url)
        )
        found = {"urgent": urgent, "normal": normal_url, "low": low}
        return {lane: url for lane, url in found.items() if url}


def blender_class(render_class: str, blender: str) -> str:
    """The class a job's tasks queue in: its render class, of its Blender (`cpu-4.5`); 5.0's (or an unknown
    version's) is the render class itself, with today's queues."""
    return render_class if blender in ("", DEFAULT_BLENDER) else f"{render_class}-{blender}"


def queue_suffix(blender: str) -> str:
    """What a Blender's queues add to 5.0's names (`-blender45`; "" for 5.0): SQS names take no dots."""
    return "" if blender in ("", DEFAULT_BLENDER) else "-blender" + blender.replace(".", "")


def open_lanes(held: Sequence[int]) -> list[bool]:
    """Which lanes may be consumed, given how many messages each holds (urgent first): a lane only while every
    lane above it is empty."""
    return [not any(held[:index]) for index in range(len(held))]


class Balancer(Protocol):
    """Moves the render function's capacity to the highest lane that holds work (`LaneScheduler`)."""

    def balance(self) -> dict[str, bool]: ...


class LaneQueues:
    """Each render class's urgent and low lanes as task queues, for the fan-out (its class's queue is the normal
    lane); urgent or normal work sent to the class the scheduler switches (the render Lambda's) is followed by a
    rebalance."""

    def __init__(
        self,
        queues: Mapping[str, Mapping[str, TaskQueue]],
        scheduler: Balancer | None = None,
        switched: str = CPU,
    ) -> None:
        self.queues = queues  # class → lane (urgent, low) → queue
        self.scheduler = scheduler
        self.switched = switched

    @classmethod
    def of(
        cls, settings: Settings, make: Callable[[str], TaskQueue], depths: LaneDepths, sources: EventSources
    ) -> LaneQueues:
        """The urgent and low lanes the settings name, made with `make`; where the settings name a render
        function, the scheduler that switches its event sources."""
        lanes = settings.lanes
        queues = {  # the normal lane is the class's own queue: left out here ("" is no lane)
            render_class: {lane: make(url) for lane, url in lanes.urls("", gpu=render_class == GPU).items()}
            for render_class in (CPU, GPU)
        }
        for versioned, urls in lanes.versioned.items():  # another Blender's classes: every lane their own
            queues[versioned] = {lane: make(url) for lane, url in urls.items() if url}
        function = lanes.render_function
        scheduler = LaneScheduler(depths, sources, function, lanes.urls(settings.render_queue_url, gpu=False))
        return cls(queues, scheduler if function else None)

    def queue(self, render_class: str, lane: str, normal: TaskQueue) -> TaskQueue:
        """The lane's queue of that class; `normal` (the class's queue) for the normal lane or one not deployed;
        KeyError for another Blender's class that is not deployed (its tasks never go to 5.0's queue)."""
        if render_class not in RENDER_BASE:
            lanes = self.queues[render_class]
            return lanes.get(lane) or lanes["normal"]
        chosen = self.queues.get(render_class, {}).get(lane, normal)
        if self.scheduler is None or render_class != self.switched or lane == "low":
            return chosen
        return _Rebalancing(chosen, self.scheduler)


def queue_for(
    lanes: LaneQueues | None, render_class: str, blender: str, lane: str, normal: TaskQueue
) -> TaskQueue:
    """The queue a job's tasks go to: its lane of its class of its Blender (`normal`, the class's queue, where no
    lanes are deployed); RuntimeError for a Blender without queues (never 5.0's: submission refuses such a one)."""
    versioned = blender_class(render_class, blender)
    if versioned not in RENDER_BASE and (lanes is None or versioned not in lanes.queues):
        raise RuntimeError(f"no queue for the `{versioned}` class (Blender {blender})")
    return normal if lanes is None else lanes.queue(versioned, lane, normal)


class _Rebalancing:
    """A lane's queue that rebalances the lanes once its tasks are sent."""

    def __init__(self, queue: TaskQueue, scheduler: Balancer) -> None:
        self.inner = queue
        self.scheduler = scheduler

    def send_all(self, bodies: Sequence[str], group: str) -> None:
        """Send, then switch the render function's lanes (a failure to switch leaves it to the sweep)."""
        self.inner.send_all(bodies, group)
        try:
            self.scheduler.balance()
        except Exception as error:  # the tasks are queued; the sweep switches the lanes within a minute
            logger.warning("lanes not rebalanced after a fan-out", error=str(error))


# -- consumers that poll: take the lanes in order at every receive ---------------------------------------------------


def receive_in_order(
    sqs: Any, urls: Sequence[str], wait_s: int, **options: Any
) -> tuple[str, list[dict[str, Any]]]:
    """The first lane (urgent first) with a message, and what it gave, each lane asked with a short poll; when all
    were empty, one long poll of `wait_s` on the normal lane, where new work mostly comes, so an idle worker takes
    it the moment it is queued (urgent or low work queued meanwhile is seen by the next receive); a single queue
    is long-polled alone. ("", []) when nothing came."""
    if len(urls) > 1:
        for url in urls:
            if messages := sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0, **options).get(
                "Messages", []
            ):
                return url, messages
    idle = urls[len(urls) // 2]  # of a class's three lanes the normal one
    messages = sqs.receive_message(QueueUrl=idle, WaitTimeSeconds=wait_s, **options).get("Messages", [])
    return (idle, messages) if messages else ("", [])


# -- the render Lambda: one event source per lane, switched by what the lanes hold ---------------------------------


@dataclass(frozen=True)
class EventSource:
    """One of a function's SQS event source mappings."""

    uuid: str
    queue_arn: str
    state: str  # Lambda's: Enabled, Enabling, Disabled, Disabling, Creating, Updating, Deleting

    @property
    def enabled(self) -> bool | None:
        """True or False where the mapping is (or is becoming) so; None while Lambda is changing it otherwise."""
        if self.state in ("Enabled", "Enabling", "Creating"):
            return True
        return False if self.state in ("Disabled", "Disabling") else None


class LaneDepths(Protocol):
    """What a lane holds (`backend.aws.queue_depths.QueueDepths`)."""

    def held(self, queue_url: str) -> tuple[str, int]:
        """The queue's ARN and its messages: visible, in flight and delayed."""
        ...


class EventSources(Protocol):
    """A function's event source mappings (`backend.aws.event_sources.LambdaEventSources`)."""

    def of(self, function: str) -> list[EventSource]: ...
    def switch(self, function: str, uuid: str, enabled: bool) -> None: ...


class LaneScheduler:
    """Enables the render function's event source of a lane only while every lane above it is empty."""

    def __init__(
        self, depths: LaneDepths, sources: EventSources, function: str, urls: Mapping[str, str]
    ) -> None:
        self.depths = depths
        self.sources = sources
        self.function = function
        self.urls = urls  # lane → queue URL

    def balance(self) -> dict[str, bool]:
        """Switch each lane's event sources to what the lanes hold; lane → enabled, for the lanes it switched."""
        lanes = [lane for lane in LANES if lane in self.urls]
        measured = [self.depths.held(self.urls[lane]) for lane in lanes]
        held = [count for _, count in measured]
        wanted = {
            arn: (lane, on) for (arn, _), lane, on in zip(measured, lanes, open_lanes(held), strict=True)
        }
        switched: dict[str, bool] = {}
        for source in self.sources.of(self.function):
            lane, on = wanted.get(source.queue_arn, ("", True))
            if not lane or source.enabled is on:
                continue
            try:
                self.sources.switch(self.function, source.uuid, on)
            except Exception as error:  # Lambda is changing it now: the next fan-out or sweep does it
                logger.warning("lane not switched", lane=lane, error=str(error))
                continue
            switched[lane] = on
        if switched:
            logger.info("lanes switched", switched=switched, held=dict(zip(lanes, held, strict=True)))
        return switched
