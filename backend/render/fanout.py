"""A job's tasks go on the render queue in phases, and only this module puts them there.

A job over `probe_over_frames` frames renders its first, middle and last frames first (PROBING). From their billed
and render seconds comes the estimate; then either the rest is queued at once, or the job waits for someone to
press Submit (AWAITING_APPROVAL: over `confirm_over_usd` its submitter or an admin, over `admin_over_usd` or while
the budget guard is on an admin), and expires if nobody does. A probe that fails stops the job there (FAILED):
nothing more is spent. Every step is a transition of `backend.render.lifecycle`'s table, so a duplicate delivery,
a double click or two sweeps at once change nothing twice. `backend.render.job_life.JobLifecycle` calls it.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from aws_lambda_powertools import Logger

from backend.config import Settings
from backend.errors import ConflictError, PermissionDenied
from backend.people import mention
from backend.render.estimates import Approval, approval_needed, duration, estimate
from backend.render.frames import plan_tasks, stored_frames
from backend.render.lanes import LaneQueues, queue_for
from backend.render.lifecycle import submitted_to
from backend.render.outbox import Outbox
from backend.render.ports import (
    GuardReader,
    JobQueries,
    JobTransitions,
    NodeLauncher,
    NodePrices,
    TaskQueue,
)
from backend.render.records import FrameOutcome, FrameRecord, Job, JobStatus
from backend.render.tasks import GPU, RenderTask
from backend.render.tiles import TILED_COST, tile_count

logger = Logger(service="studiobot-fanout")


def probe_frames_of(frames: Sequence[int]) -> tuple[int, ...]:
    """First, middle and last, in the order the job renders them (fewer when they coincide)."""
    picked = [frames[0], frames[len(frames) // 2], frames[-1]]
    return tuple(dict.fromkeys(picked))


class FanoutJobs(JobTransitions, JobQueries, Protocol):
    """What the fan-out needs of the job store: its transitions, the jobs, and the probes' records."""

    def frames_at(self, job_id: str, frames: Iterable[int]) -> list[FrameRecord]: ...


class Fanout:
    """Decides a job's first phase, queues each phase once, and moves a job past its gates."""

    def __init__(
        self,
        jobs: FanoutJobs,
        queue: TaskQueue,
        settings: Settings,
        outbox: Outbox | None = None,
        guard: GuardReader | None = None,
        clock: Callable[[], float] = time.time,
        gpu_queue: TaskQueue | None = None,
        gpu_nodes: NodeLauncher | None = None,
        gpu_prices: NodePrices | None = None,
        lanes: LaneQueues | None = None,
    ) -> None:
        self.lanes = lanes  # each class's priority lanes (without: every job goes to its class's queue)
        self.gpu_nodes = gpu_nodes  # starts the nodes a gpu phase needs (None: a studio's own nodes take it)
        self.gpu_prices = gpu_prices
        self.jobs = jobs
        self.queue = queue  # the `cpu` class: the render Lambda
        self.gpu_queue = gpu_queue  # the `gpu` class: render nodes
        self.outbox = outbox
        self.settings = settings
        self.guard = guard
        self.clock = clock

    # -- the start --------------------------------------------------------------------------------------------

    def first_phase(
        self, frames: Sequence[int], requested_by: str, tiles_auto: bool = False
    ) -> tuple[JobStatus, tuple[int, ...], Approval | None]:
        """A new job's status, its probe frames, and who must agree before anything renders (`--tiles auto`
        always probes: the tiles are planned from a measurement)."""
        costs = self.settings.costs
        probing = len(frames) > costs.probe_over_frames or tiles_auto
        probes = probe_frames_of(frames) if probing else ()
        by_admin = requested_by in self.settings.access.admins
        approval = approval_needed(None, self._guard_on(), by_admin, False, costs)
        if approval is not None:
            return JobStatus.AWAITING_APPROVAL, probes, approval
        return (JobStatus.PROBING if probes else JobStatus.QUEUED), probes, None

    def go(self, job: Job) -> Job:
        """Queue the tasks of the phase the job is in, unless they are queued already (or being queued)."""
        if job.status is JobStatus.PROBING and not job.probes_enqueued:
            if self.jobs.claim_enqueue(job.job_id, probes=True):
                bodies = self._bodies(job, [[frame] for frame in job.probe_frames], 0, probe=True)
                self.queue_of(job).send_all(bodies, group=job.job_id)
                enqueued = self.jobs.mark_enqueued(job.job_id, probes=True)
                self._launch(job, len(bodies))  # after: a launch that fails must not queue the tasks again
                return enqueued
        elif job.status in (JobStatus.QUEUED, JobStatus.RUNNING) and not job.enqueued:
            if self.jobs.claim_enqueue(job.job_id):
                first = len(job.probe_frames) * tile_count(job.settings.tiles)
                bodies = self._bodies(job, self._rest(job), first)
                self.queue_of(job).send_all(bodies, group=job.job_id)
                enqueued = self.jobs.mark_enqueued(job.job_id)
                self._launch(job, len(bodies))
                return enqueued  # the job as marked: no read after
        else:
            return job
        return self.jobs.get(job.job_id)

    def requeue(self, job: Job, frames: Sequence[int]) -> None:
        """Queue these frames again as the job's current generation (a resume, a new priority), batched as ever."""
        tasks = [[f] for f in frames] if job.settings.tiles else plan_tasks(list(frames), job.settings.chunk)
        bodies = self._bodies(job, tasks, job.task_count)  # numbered past the first sending
        self.queue_of(job).send_all(bodies, group=job.job_id)
        self._launch(job, len(bodies))

    # -- after the probes -------------------------------------------------------------------------------------

    def probe_recorded(self, job: Job) -> None:
        """Once every probe frame has its outcome: fail the job, or estimate it and go on or wait for Submit.
        Also resumes a job whose estimate was settled by a delivery that died before queueing the rest."""
        if job.status is JobStatus.RUNNING and not job.enqueued:
            resumed = self.go(job)  # unless another delivery holds the enqueue lease, and is queueing it now
            if resumed.enqueued:
                self._flush(job.job_id)  # the delivery that died never announced the estimate
            return
        if job.status in (JobStatus.AWAITING_APPROVAL, JobStatus.FAILED):
            self._flush(job.job_id)  # what a delivery that died left pending, if anything
            return
        if job.status is not JobStatus.PROBING:
            return
        records = self.jobs.frames_at(job.job_id, job.probe_frames)
        if job.replanned:  # frames too long: the estimate is the probe's prediction, priced as tiles (their
            # overscan and starts)
            self._settle(job, [job.predicted_s * TILED_COST], [job.predicted_s], len(records))
            return
        failed = [record for record in records if record.outcome is FrameOutcome.FAILED]
        if failed:  # at once: the probes still on the queue are acknowledged without rendering
            first = failed[0]
            reason = f"probe frame {first.frame} failed: {first.error or 'see the render logs'}"
            if self.jobs.fail(job.job_id, reason) is not None:
                self._flush(job.job_id)
            return
        if len(records) < len(job.probe_frames):
            return
        self._settle(
            job, [record.billed_s for record in records], [record.seconds for record in records], len(records)
        )

    def _settle(self, job: Job, billed_s: list[float], render_s: list[float], recorded: int) -> None:
        """Estimate the job from what its frames cost, then go on or wait for Submit (a gpu job's ETA at the
        nodes it may start, not the Lambda's concurrency)."""
        costs = self.settings.costs
        if job.settings.render_class == GPU:
            costs = dataclasses.replace(costs, concurrency=max(1, costs.max_gpu_nodes))
        tiles = tile_count(job.settings.tiles)
        frames_left = job.total - recorded
        guess = estimate(
            billed_s=billed_s,
            render_s=render_s,
            total=job.total,
            tasks=job.task_count if tiles == 1 else recorded + frames_left * tiles,
            frames_left=frames_left,
            chunk=job.settings.chunk,
            costs=costs,
            tiles=tiles,
            node_usd_per_s=self._node_price(job),
        )
        by_admin = job.requested_by in self.settings.access.admins
        approval = approval_needed(guess.cost_usd, self._guard_on(), by_admin, job.approved_by_admin, costs)
        if not self.jobs.settle_probes(job.job_id, guess, approval):
            return  # another delivery settled it
        if approval is None:  # queued before it is announced: a failed publish loses no frames
            self.go(self.jobs.get(job.job_id))
        self._flush(job.job_id)

    # -- Submit, and its expiry --------------------------------------------------------------------------------

    def approve(self, job_id: str, user: str) -> tuple[Job, bool]:
        """Someone pressed Submit: check they may, move the job on, queue its next phase; the job, and whether
        this call submitted it (False: a Submit whose queueing died halfway, resumed). Announcing it is the
        lifecycle's."""
        job = self.jobs.get(job_id)
        if job.status is not JobStatus.AWAITING_APPROVAL:
            if job.approved_by:  # a Submit whose queueing died halfway is finished by pressing it again
                resumed = self.go(job)
                if (resumed.enqueued, resumed.probes_enqueued) != (job.enqueued, job.probes_enqueued):
                    return resumed, False
                raise ConflictError(f"`{job_id}` was submitted already, by {mention(job.approved_by)}.")
            state = str(job.status).replace("_", " ")
            raise ConflictError(f"`{job_id}` is {state}: there is nothing to submit.")
        is_admin = user in self.settings.access.admins
        if job.approval == "admin" and not is_admin:
            raise PermissionDenied(f"Only an admin can submit `{job_id}`: {job.approval_reason}.")
        if not self.settings.access.may_manage(user, job.requested_by):
            raise PermissionDenied(
                f"Only {mention(job.requested_by)} (who asked for `{job_id}`) or an admin can submit it."
            )
        if not self.jobs.approve(job_id, user, is_admin, submitted_to(job)):
            now = self.jobs.get(job_id)  # it changed meanwhile (a second click, a cancel, the expiry)
            by = f", by {mention(now.approved_by)}" if now.approved_by else ""
            raise ConflictError(
                f"`{job_id}` is {str(now.status).replace('_', ' ')}{by}: there is nothing to submit."
            )
        return self.go(self.jobs.get(job_id)), True  # queued first: a failed publish loses no frames

    def expire_waiting(self) -> list[Job]:
        """Jobs nobody submitted within `confirm_expiry_s` expire, each announced once."""
        wait_s = self.settings.costs.confirm_expiry_s
        cutoff = self.clock() - wait_s
        expired = []
        for job_id in self.jobs.awaiting_since_before(cutoff):
            reason = f"nobody pressed Submit within {duration(wait_s)}"
            job = self.jobs.expire(job_id, cutoff, reason)
            if job is None:
                job = self.jobs.get(job_id)
                if job.status is not JobStatus.EXPIRED or not job.awaiting:
                    continue  # submitted or cancelled meanwhile (the index lags a little)
            # an expired job leaves the index once its end is published or in the outbox for the outbox's sweep
            self._flush(job_id)
            self.jobs.clear_awaiting(job_id)
            expired.append(job)
        return expired

    # -- plumbing ----------------------------------------------------------------------------------------------

    def _flush(self, job_id: str) -> None:
        if self.outbox is None:
            raise RuntimeError("this Fanout was built without an outbox")
        self.outbox.flush(job_id)

    def _node_price(self, job: Job) -> float | None:
        """A GPU node-second's price, for a gpu job (the Spot price of the configured type); None for Lambda."""
        if job.settings.render_class != GPU or self.gpu_prices is None:
            return None
        try:
            return self.gpu_prices.per_second(self.settings.costs.gpu_instance_type)
        except Exception as error:  # EC2 unreachable: the configured fallback price, not a stuck job
            logger.warning("Spot price not read", error=str(error))
            return self.settings.costs.gpu_fallback_usd_per_hour / 3600

    def _launch(self, job: Job, tasks: int) -> None:
        """Start the GPU nodes a gpu phase needs: one per task, at most `max_gpu_nodes`; they leave when the queue
        is empty. The tasks are queued first: a launch that fails leaves them for the nodes that come."""
        if job.settings.render_class != GPU or self.gpu_nodes is None or tasks < 1:
            return
        try:
            self.gpu_nodes.launch(min(tasks, self.settings.costs.max_gpu_nodes), job.job_id)
        except Exception as error:  # AWS said no, or could not be reached: the queued tasks wait for nodes
            logger.warning("GPU nodes not started", job_id=job.job_id, error=str(error))

    def queue_of(self, job: Job) -> TaskQueue:
        """The job's priority lane of its render class (a `gpu` job is refused at submission where there is none)."""
        gpu_queue = self.gpu_queue if job.settings.render_class == GPU else None
        normal = gpu_queue if gpu_queue is not None else self.queue
        return queue_for(
            self.lanes, job.settings.render_class, job.settings.blender, job.priority.value, normal
        )

    def _guard_on(self) -> bool:
        return self.guard is not None and self.guard.state().on

    def _rest(self, job: Job) -> list[list[int]]:
        """The frames after the probes: every frame but the probes already recorded (a re-planned job's probe
        frames that were not rendered whole come back as tiles)."""
        frames = stored_frames(job.frames_spec)
        if job.replanned:
            probes = {record.frame for record in self.jobs.frames_at(job.job_id, job.probe_frames)}
        else:
            probes = set(job.probe_frames)
        left = [frame for frame in frames if frame not in probes]
        return [[frame] for frame in left] if job.settings.tiles else plan_tasks(left, job.settings.chunk)

    def _bodies(self, job: Job, tasks: list[list[int]], first: int, probe: bool = False) -> list[str]:
        """The messages for these tasks, numbered from `first`: a tiled job's frames as one task per tile."""
        tiles: list[int | None] = (
            list(range(tile_count(job.settings.tiles))) if job.settings.tiles else [None]
        )
        bodies: list[str] = []
        for frames in tasks:
            for tile in tiles:
                bodies.append(self._task(job, first + len(bodies), frames, probe, tile).to_json())
        return bodies

    @staticmethod
    def _task(
        job: Job, index: int, frames: list[int], probe: bool = False, tile: int | None = None
    ) -> RenderTask:
        return RenderTask(
            job_id=job.job_id,
            generation=job.generation,
            task_index=index,
            scene_bucket=job.scene_bucket,
            scene_key=job.scene_key,
            scene_etag=job.scene_etag,
            frames=tuple(frames),
            settings=job.settings,
            output_bucket=job.output_bucket,
            output_prefix=job.output_prefix,
            assets_prefix=job.assets_prefix,
            manifest_key=job.manifest_key or None,
            manifest_etag=job.manifest_etag or None,
            allow_missing=job.missing_allowed > 0,
            probe=probe,
            tile=tile,
        )
