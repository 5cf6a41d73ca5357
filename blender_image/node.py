"""A render node: the render image's second command (`python -m entry.node --class gpu`, `studiobot node`).

It polls its class's lanes in order (urgent, normal, low) and renders each task with the render Lambda's worker, keeping
Blender and the scene warm across tasks, the task hidden from other nodes while it renders, and it leaves when the
queue has stayed empty for `idle_exit_s`. On SIGTERM or a Spot interruption notice it drains: it takes no new task,
finishes the frame in hand if that will end before the deadline, and otherwise hands the task back at once
(`ChangeMessageVisibility` 0) so another node takes it without waiting out the visibility timeout, says so once in
the job's channel, and exits (Blender cannot stop a render from Python). A frame still counts once: records are.

A node that failed `BLOCK_AFTER` tasks of one job is on that job's blocklist: it hands the job's tasks back at once
(never failing or counting them) so other nodes take them, says so once on its console, and the thread hears it once.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aws_lambda_powertools import Logger

from backend.aws.sqs import Heartbeat
from backend.events import EventPublisher, NodeBlocked, NodeReclaimed
from backend.render.lanes import POLL_WAIT_S, receive_in_order
from backend.render.ports import JobStore
from backend.render.store.blocklist import NodeFailures
from backend.render.tasks import RenderTask, UnreadableTask
from blender_image.worker import RenderWorker

logger = Logger(service="studiobot-node")
EXIT_RECLAIMED = 143  # what a process ended by SIGTERM reports
SIGTERM_GRACE_S = 30.0  # AWS Batch (and ECS) kill a container this long after SIGTERM
MARGIN_S = 10.0
RETRY_AFTER_S = 30  # a task that failed on this node is tried again this soon (by any node)
# A blocked job's task that comes back to the node that handed it back (no other node took it) is hidden this long:
# every receive counts toward the gpu queue's maxReceiveCount (10), so a job every node is blocked for reaches its
# dead letters after some minutes (its thread was told) instead of at once.
SKIP_HIDE_S = 60
LANE = "studiobot:lane"  # the key a received message keeps the URL of the lane it came from under


class Blocklist(Protocol):
    """Counts a node's failed tasks per job (`backend.render.store.blocklist.DynamoBlocklist`)."""

    def node_failed(self, job_id: str, node: str, error: str) -> NodeFailures: ...


@dataclass
class InHand:
    message: dict[str, Any]
    task: RenderTask
    started: float


class RenderNode:
    """Takes tasks off one class's queue until it has been idle long enough, or is told to go."""

    def __init__(
        self,
        sqs: Any,
        queue_url: str | Sequence[str],  # the class's queue, or its lanes urgent first
        worker: RenderWorker,
        jobs: JobStore,
        events: EventPublisher,
        name: str,
        render_class: str,
        idle_exit_s: float = 300.0,
        visibility_s: int = 900,
        wait_s: int = 20,
        limit_s: float = 3600.0,
        clock: Callable[[], float] = time.time,
        exit: Callable[[int], None] = os._exit,
        blocklist: Blocklist | None = None,
        say: Callable[[str], None] = lambda text: print(text, flush=True),
        skip_hide_s: int = SKIP_HIDE_S,
        retry_after_s: int = RETRY_AFTER_S,
    ) -> None:
        self.sqs = sqs
        self.lanes = [queue_url] if isinstance(queue_url, str) else list(queue_url)
        self.worker = worker
        self.jobs = jobs
        self.events = events
        self.name = name
        self.render_class = render_class
        self.idle_exit_s = idle_exit_s
        self.visibility_s = visibility_s
        self.wait_s = wait_s
        self.limit_s = limit_s
        self.clock = clock
        self.exit = exit
        self.blocklist = blocklist
        self.say = say  # the node's console (`studiobot node`'s output)
        self.skip_hide_s = skip_hide_s
        self.retry_after_s = retry_after_s
        self.skipping: dict[str, str] = {}  # job id → the last error of this node's failed tasks of it
        self.skipped: set[str] = set()  # the messages handed back for a blocklist
        self.draining = threading.Event()
        self.rendered = 0
        self._in_hand: InHand | None = None
        self.signal_pipe: tuple[socket.socket, socket.socket] | None = None
        self._lock = threading.Lock()

    # -- the loop ----------------------------------------------------------------------------------------------

    def run(self) -> int:
        """Render tasks until the queue stays empty `idle_exit_s` or a drain; how many tasks were handled."""
        idle_since = self.clock()
        while not self.draining.is_set():
            try:
                wait_s = self.wait_s if len(self.lanes) == 1 else min(self.wait_s, POLL_WAIT_S)
                url, messages = receive_in_order(
                    self.sqs,
                    self.lanes,
                    wait_s,
                    MaxNumberOfMessages=1,
                    VisibilityTimeout=self.visibility_s,
                    AttributeNames=["ApproximateReceiveCount"],
                )
            except (
                Exception
            ) as error:  # SQS unreachable for a moment: a node that died here strands its tasks
                logger.warning("could not receive a task", node=self.name, error=str(error))
                self.draining.wait(5.0)
                continue
            if not messages:
                if self.clock() - idle_since >= self.idle_exit_s:
                    logger.info("queue empty: node leaves", node=self.name, idle_s=self.idle_exit_s)
                    break
                continue
            message = {**messages[0], LANE: url}  # where its visibility and deletion go
            if self.draining.is_set():  # received while the drain began: straight back
                self._hand_back(message)
                break
            if self._handle(message):
                idle_since = self.clock()
            elif self.clock() - idle_since >= self.idle_exit_s:  # only blocked jobs' tasks: the node leaves
                logger.info("only blocked jobs' tasks left: node leaves", node=self.name)
                break
        return self.rendered

    def _handle(self, message: dict[str, Any]) -> bool:
        """Render the message's task; False when it was handed back for the job's blocklist."""
        try:
            task = RenderTask.from_json(message["Body"])
        except UnreadableTask as error:  # back after a wait; the queue's redrive policy dead-letters it
            if message.get("Attributes", {}).get("ApproximateReceiveCount", "1") == "1":
                logger.error(
                    "unreadable task", node=self.name, message_id=message.get("MessageId"), error=str(error)
                )
            self._quietly(self._visibility, message, RETRY_AFTER_S)
            return True
        if task.job_id in self.skipping:  # another node takes it now; nothing failed, nothing counted
            again = message.get("MessageId", "") in self.skipped
            self.skipped.add(message.get("MessageId", ""))
            self._quietly(self._visibility, message, self.skip_hide_s if again else 0)
            return False
        with self._lock:  # a drain from now on sees this task; one that began a moment ago gets it back
            if self.draining.is_set():
                self._hand_back(message)
                return True
            self._in_hand = InHand(message, task, self.clock())
        heartbeat = Heartbeat(self.sqs, message[LANE], [message["ReceiptHandle"]], self.visibility_s).start()
        try:
            started = self.clock()
            self.worker.run(task, remaining_s=lambda: self.limit_s - (self.clock() - started))
        except Exception as error:  # tried again shortly (SQS counts the tries; the dead letters end it)
            logger.warning("task failed on this node", node=self.name, job_id=task.job_id, error=str(error))
            later = int(
                getattr(error, "retry_after_s", self.retry_after_s)
            )  # a stitch held elsewhere: its lease
            self._quietly(self._visibility, message, later)
            if not hasattr(error, "retry_after_s"):  # a stitch held elsewhere is no failure of this node's
                self._count_failure(task, str(error))
            return True
        finally:
            heartbeat.stop()
            with self._lock:
                self._in_hand = None
        # after a hand-back that raced the end of the render the receipt is stale: the record already counts
        self._quietly(self.sqs.delete_message, QueueUrl=message[LANE], ReceiptHandle=message["ReceiptHandle"])
        self.rendered += 1
        return True

    def _count_failure(self, task: RenderTask, error: str) -> None:
        """Count the failed task against this node; at the limit, skip the job's tasks from now on."""
        if self.blocklist is None:
            return
        try:
            failures = self.blocklist.node_failed(task.job_id, self.name, error)
        except Exception as problem:  # not counted this time: the node tries the job's tasks on
            logger.warning("could not count the failed task", node=self.name, error=str(problem))
            return
        if not failures.blocking or task.job_id in self.skipping:
            return
        self.skipping[task.job_id] = error
        said = (
            f"studiobot node {self.name}: skipping job {task.job_id}'s tasks: this node failed "
            f"{failures.count} of them (last error: {error[:300]})"
        )
        logger.warning(said, node=self.name, job_id=task.job_id, failed=failures.count)
        self.say(said)
        if failures.newly_blocked:  # the one call that put the node on the blocklist tells the thread
            self._quietly(
                self.events.publish,
                NodeBlocked(
                    node=self.name,
                    render_class=self.render_class,
                    job_id=task.job_id,
                    error=error[:500],
                    blocked=failures.blocked,
                    channel=self._channel(task.job_id),
                ),
            )

    def _quietly(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        try:
            call(*args, **kwargs)
        except Exception as error:  # SQS said no: redelivery after the visibility timeout covers it
            logger.warning("queue call failed", node=self.name, error=str(error))

    # -- draining ----------------------------------------------------------------------------------------------

    def drain(self, deadline: float, reason: str) -> None:
        """No new task; the one in hand finishes if it will before `deadline`, else goes back now and the node exits."""
        self.draining.set()
        with self._lock:
            in_hand = self._in_hand
        if in_hand is None:
            return
        left = self._expected_left(in_hand)
        if left is not None and self.clock() + left + MARGIN_S < deadline:
            logger.info(
                "draining: the frame in hand finishes first", node=self.name, seconds_left=round(left)
            )
            return
        try:
            self._hand_back(in_hand.message)
            logger.warning("task handed back", node=self.name, job_id=in_hand.task.job_id, reason=reason)
            self.events.publish(
                NodeReclaimed(
                    node=self.name,
                    render_class=self.render_class,
                    reason=reason,
                    job_id=in_hand.task.job_id,
                    frames=list(in_hand.task.frames),
                    tile=in_hand.task.tile if in_hand.task.tile is not None else -1,
                    channel=self._channel(in_hand.task.job_id),
                )
            )
        except Exception as error:  # never keep rendering a task another node may have taken
            logger.warning("could not say the task was handed back", node=self.name, error=str(error))
        finally:
            self.exit(EXIT_RECLAIMED)

    def _expected_left(self, in_hand: InHand) -> float | None:
        """How long the frame in hand should still take, from the job's probe estimate; None when unknown."""
        try:
            job = self.jobs.get(in_hand.task.job_id)
        except Exception:
            return None
        if job.estimate is None or job.estimate.render_s <= 0:
            return None
        per_task = job.estimate.render_s * len(in_hand.task.frames)
        return max(0.0, per_task - (self.clock() - in_hand.started))

    def _channel(self, job_id: str) -> str:
        try:
            return self.jobs.get(job_id).channel
        except Exception:
            return ""

    def _hand_back(self, message: dict[str, Any]) -> None:
        self._visibility(message, 0)

    def _visibility(self, message: dict[str, Any], seconds: int) -> None:
        self.sqs.change_message_visibility(
            QueueUrl=message[LANE],
            ReceiptHandle=message["ReceiptHandle"],
            VisibilityTimeout=seconds,
        )


def on_sigterm(node: RenderNode, grace_s: float = SIGTERM_GRACE_S) -> None:
    """Drain on SIGTERM even while Blender renders: the signal wakes a thread (a Python handler would wait for the
    render to return), which drains with the grace the orchestrator gives before it kills."""
    reader, writer = socket.socketpair()
    writer.setblocking(False)
    node.signal_pipe = (reader, writer)  # kept open as long as the node lives
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)

    def wait() -> None:
        while True:
            data = reader.recv(16)
            if signal.SIGTERM in data:
                node.drain(time.time() + grace_s, "SIGTERM")
                return

    threading.Thread(target=wait, name="sigterm", daemon=True).start()
