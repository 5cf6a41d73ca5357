"""A render job's status changes in DynamoDB: each is the conditional write its row in `backend.render.lifecycle`
makes it, and this module owns them all (the diagram of a job's life is that module's).

`_move` turns a row into the write: `#status IN (its sources)`, its condition, `#status = :to` and its outbox fact,
beside what each change stores (its times, its estimate, who pressed Submit). The enqueue claims are leases, so an
enqueue that died halfway is resumed, and never done twice otherwise. A transition that makes something to announce
true (the end, the estimate, a Submit) puts it in the job's outbox in the same write (`backend.render.outbox`
publishes it), so no crash or failed publish can lose it.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from backend.aws.base import error_code
from backend.render.estimates import Approval, Estimate
from backend.render.lifecycle import (
    Condition,
    Event,
    finished_as,
    not_held,
    not_holdable,
    nothing_to_cancel,
    resumed_to,
    row,
)
from backend.render.records import Job, JobStatus, Priority
from backend.render.store.items import (
    ACTIVE_ATTRIBUTE,
    AWAITING,
    ESTIMATE_SET,
    OUTBOX_VALUES,
    estimate_values,
    job_to_item,
    outbox_set,
    status_names,
    status_values,
)
from backend.render.store.table import JobTable
from backend.render.tasks import RenderSettings

ENQUEUE_LEASE_S = 900.0  # the longest a Lambda may run: an enqueue still going is never taken over


class DynamoTransitions(JobTable):
    """Creates jobs and moves them from status to status; the only code that changes a job's status."""

    def create(self, job: Job) -> tuple[Job, bool]:
        """Store a new QUEUED job; if that id exists already, return the stored one and False."""
        item = {**job_to_item(job), **self._purge()}
        try:
            self.client.put_item(
                TableName=self.table_name, Item=item, ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise self.aws_error(error, "create the job") from error
            return self.get(job.job_id), False
        return job, True

    def claim_enqueue(self, job_id: str, probes: bool = False, lease_s: float = ENQUEUE_LEASE_S) -> bool:
        """True for the one caller that may enqueue the job's tasks (`probes`: its probe tasks) now: a lease, so
        an enqueue that died halfway can be resumed, and never done twice otherwise."""
        now = self._clock()
        flag, claim = (
            ("probes_enqueued", "probes_claimed_at") if probes else ("enqueued", "enqueue_claimed_at")
        )
        return self._transition(
            job_id,
            f"SET {claim} = :now",
            {":cutoff": {"N": repr(now - lease_s)}, ":yes": {"BOOL": True}},
            condition=f"NOT {flag} = :yes AND (attribute_not_exists({claim}) OR {claim} <= :cutoff)",
            now=now,
            uses_status=False,
        )

    def mark_enqueued(self, job_id: str, probes: bool = False) -> Job:
        """Remember that the job's tasks (or its probe tasks) are on the queue; the job so marked."""
        values: dict[str, Any] = {":yes": {"BOOL": True}}
        if probes:
            update = "SET probes_enqueued = :yes"
        else:
            update = "SET enqueued = :yes, fanned_out_at = :now"
            values[":now"] = {"N": repr(self._clock())}
        return self._update(job_id, update, values, condition="attribute_exists(pk)")

    def start(self, job_id: str) -> bool:
        """START: QUEUED → RUNNING; False if the job was not QUEUED (already running, or over). The job as written
        is remembered, so its first frame's record needs no read after it."""
        return self._moved(job_id, Event.START, JobStatus.RUNNING, "started_at = :now") is not None

    def finish(self, job_id: str, job: Job | None = None) -> Job | None:
        """FINISH: → DONE or DONE_WITH_FAILURES once no frame remains; the one caller that wins gets the job as
        written. `job`: as read since its last frame's record (read here otherwise)."""
        job = job or self.get(job_id)
        if job.status.is_final or job.remaining > 0:
            return None
        return self._moved(job_id, Event.FINISH, finished_as(job), "finished_at = :now")

    def cancel(self, job_id: str) -> Job:
        """CANCEL: any active state → CANCELLED; ConflictError if the job is already over."""
        job = self._moved(job_id, Event.CANCEL, JobStatus.CANCELLED, "finished_at = :now", remove="awaiting")
        if job is None:
            raise nothing_to_cancel(self.get(job_id))
        return job

    def hold(self, job_id: str, by: str) -> Job:
        """HOLD: QUEUED or RUNNING → HELD by `by`, its tasks a generation older; ConflictError otherwise."""
        job = self._moved(
            job_id, Event.HOLD, JobStatus.HELD, f"held_by = :by, held_at = :now, {_BUMP}", _bump(by)
        )
        if job is None:
            raise not_holdable(self.get(job_id))
        return job

    def resume(self, job_id: str) -> Job:
        """RESUME: HELD → RUNNING (or QUEUED, never started), its tasks a generation newer; ConflictError if not held."""
        held = self.get(job_id)
        job = self._moved(job_id, Event.RESUME, resumed_to(held), _BUMP, _bump(), remove="held_by, held_at")
        if job is None:
            raise not_held(self.get(job_id))
        return job

    def prioritise(
        self, job_id: str, priority: Priority, statuses: tuple[JobStatus, ...], bump: bool
    ) -> Job | None:
        """A new priority for a job in one of `statuses` (`bump`: its queued tasks a generation older, to be
        queued again); None when it is in none of them. No status changes."""
        values = {":priority": {"S": priority.value}, **status_values(statuses), **(_bump() if bump else {})}
        return self._transition_to(
            job_id,
            "SET priority = :priority" + (f", {_BUMP}" if bump else ""),
            values,
            condition=f"#status IN ({status_names(statuses)})",
        )

    def settle_probes(self, job_id: str, estimate: Estimate, approval: Approval | None) -> bool:
        """ESTIMATE: PROBING → RUNNING (the rest may be queued) or AWAITING_APPROVAL, with the estimate; True for
        the one caller that moved it."""
        values: dict[str, Any] = estimate_values(estimate)
        sets = "estimated_at = :now, " + ESTIMATE_SET
        if approval is None:
            return self._move(job_id, Event.ESTIMATE, JobStatus.RUNNING, sets, values)
        sets += ", approval = :who, approval_reason = :why, awaiting = :yes, awaiting_since = :now"
        values |= {":who": {"S": approval.who}, ":why": {"S": approval.reason}, ":yes": {"S": AWAITING}}
        return self._move(job_id, Event.ESTIMATE, JobStatus.AWAITING_APPROVAL, sets, values)

    def replan(self, job_id: str, settings: RenderSettings, predicted_s: float, reason: str) -> bool:
        """REPLAN: PROBING, not re-planned yet: render its frames as tiles (`settings.tiles`) from now on, with the
        probe's prediction of a whole frame's seconds for the estimate; True for the one caller that re-planned it."""
        return self._move(
            job_id,
            Event.REPLAN,
            JobStatus.PROBING,
            "settings = :settings, replanned = :why, predicted_s = :predicted, "
            "tile_counts = if_not_exists(tile_counts, :empty)",
            {
                ":settings": {"S": json.dumps(settings.to_dict())},
                ":why": {"S": reason[:500]},
                ":predicted": {"N": repr(round(predicted_s, 3))},
                ":empty": {"M": {}},
            },
        )

    def note_device(self, job_id: str, device: str, preview_layer: str = "", fps: str = "") -> None:
        """What rendered the job's first frame (kept: the card says it once, and a GPU job that fell back), which
        view layer its previews show, and the scene's frame rate (its dailies movie's)."""
        self._transition(
            job_id,
            "SET device = if_not_exists(device, :device), preview_layer = if_not_exists(preview_layer, :layer), "
            "scene_fps = if_not_exists(scene_fps, :fps)",
            {":device": {"S": device[:200]}, ":layer": {"S": preview_layer[:200]}, ":fps": {"S": fps[:20]}},
            condition="attribute_exists(pk)",
            uses_status=False,
        )

    def note_untaken(self, job_id: str, waited_s: float) -> None:
        """No node had taken the job after `waited_s` (the sweep told it): its card says so while it waits."""
        self._transition(
            job_id,
            "SET untaken_s = :waited",
            {":waited": {"N": repr(round(waited_s, 3))}},
            condition="attribute_exists(pk)",
            uses_status=False,
        )

    def fail(self, job_id: str, reason: str) -> Job | None:
        """FAIL: PROBING → FAILED (a probe frame failed); the one caller that moved it gets the job."""
        return self._moved(
            job_id,
            Event.FAIL,
            JobStatus.FAILED,
            "failure = :why, finished_at = :now",
            {":why": {"S": reason[:1000]}},
        )

    def approve(self, job_id: str, by: str, by_admin: bool, next_status: JobStatus) -> bool:
        """SUBMIT: AWAITING_APPROVAL → `next_status` (PROBING, QUEUED or RUNNING), remembering who pressed Submit;
        False if the job was not waiting any more (pressed twice, cancelled, expired)."""
        return self._move(
            job_id,
            Event.SUBMIT,
            next_status,
            "approved_by = :by, approved_by_admin = :admin, approval = :none, approved_at = :now",
            {":by": {"S": by}, ":admin": {"BOOL": by_admin}, ":none": {"S": ""}},
            remove="awaiting",
        )

    def expire(self, job_id: str, cutoff: float, reason: str) -> Job | None:
        """EXPIRE: AWAITING_APPROVAL since before `cutoff` → EXPIRED; the one caller that moved it gets the job. The
        job stays in the by_awaiting index until `clear_awaiting`, so a sweep that died before announcing it is redone."""
        return self._moved(
            job_id,
            Event.EXPIRE,
            JobStatus.EXPIRED,
            "failure = :why, finished_at = :now",
            {":why": {"S": reason}},
            cutoff=cutoff,
        )

    def clear_awaiting(self, job_id: str) -> None:
        """Take an announced expired job out of the by_awaiting index."""
        self._transition(job_id, "REMOVE awaiting", {}, condition="attribute_exists(pk)", uses_status=False)

    def _move(
        self,
        job_id: str,
        event: Event,
        to: JobStatus,
        sets: str,
        values: dict[str, Any] | None = None,
        remove: str = "",
        **params: float,
    ) -> bool:
        """The conditional write of `event`'s row taking the job to `to`, storing `sets` (SET clauses with their
        `values`) and removing `remove` beside it; True for the one caller that made it."""
        return self._moved(job_id, event, to, sets, values, remove, **params) is not None

    def _moved(
        self,
        job_id: str,
        event: Event,
        to: JobStatus,
        sets: str,
        values: dict[str, Any] | None = None,
        remove: str = "",
        **params: float,
    ) -> Job | None:
        """`_move`, and the job as that write left it (ReturnValues ALL_NEW: no read after); None if refused."""
        transition = row(event)
        if to not in transition.targets:
            raise ValueError(f"{event} never moves a job to {to}")
        condition = f"#status IN ({status_names(transition.sources)})"
        values = {**(values or {}), **status_values(transition.sources), ":to": {"S": to}}
        if transition.condition is not None:
            clause, bound = condition_clause(transition.condition, params)
            condition, values = f"{condition} AND {clause}", values | bound
        update = "SET #status = :to" + (f", {sets}" if sets else "")
        if transition.fact:
            update, values = f"{update}, {outbox_set(transition.fact)}", values | OUTBOX_VALUES
        if to.is_final:  # out of the by_active index in the write that ends the job
            remove = ", ".join(filter(None, (remove, ACTIVE_ATTRIBUTE)))
        update += f" REMOVE {remove}" if remove else ""
        return self._transition_to(job_id, update, values, condition=condition)


_BUMP = "generation = if_not_exists(generation, :zero) + :one"


def _bump(by: str | None = None) -> dict[str, Any]:
    """The values of `_BUMP` (and of who holds the job)."""
    values: dict[str, Any] = {":zero": {"N": "0"}, ":one": {"N": "1"}}
    return values | ({":by": {"S": by}} if by is not None else {})


def condition_clause(condition: Condition, params: dict[str, float]) -> tuple[str, dict[str, Any]]:
    """A row's condition as a DynamoDB condition clause and the values it names."""
    if condition.op == "unset":
        return f"attribute_not_exists({condition.attribute})", {}
    bound = params[condition.operand] if isinstance(condition.operand, str) else condition.operand
    name = f":c_{condition.attribute}"
    return f"{condition.attribute} {condition.op} {name}", {name: {"N": repr(bound)}}
