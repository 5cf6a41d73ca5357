"""What a person does with render jobs from chat or the terminal: submit (once), status, list, cancel, retry, Submit,
hold, resume and a new priority.

`JobDesk.run` carries out any `/render` command (`backend.render.grammar.parse_command`) and answers a Reply
(`backend.render.desk_replies`): Slack's listener posts it, the CLI prints it and follows the job.

The rules live here, not in the listeners: who may manage a job (its submitter or an admin), that a command Slack
re-sends is one job, that the same words a person sends twice about an unchanged shot are one job while it is still
queued or rendering, and that the thread asks whoever must press Submit exactly once.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from backend.budgets.ports import BudgetProvider
from backend.budgets.stopping import BUDGET_GUARD
from backend.commands import Caller, Help, Refused, Reply
from backend.config import Access
from backend.errors import NotFoundError, PermissionDenied, StudiobotError
from backend.people import mention
from backend.render.desk_movie import MovieJobs, movie_asked
from backend.render.desk_replies import (
    Cancelled,
    DryRun,
    Held,
    JobSent,
    JobsListed,
    Reprioritised,
    Resumed,
    RetrySent,
    StatusShown,
    Submitted,
)
from backend.render.frames import compact, normal_spec
from backend.render.grammar import JobCommand, RenderCommand, RenderJob, RenderRequest, RetryRequest
from backend.render.job_life import JobLifecycle
from backend.render.ports import JobQueries
from backend.render.queue_position import ActiveJobs, position_of
from backend.render.records import ACTIVE, Job, job_id_for
from backend.render.spend import CostsCommand, CostsShown, costs_shown, month_of
from backend.render.submit import (
    RenderPlan,
    Submission,
    SubmissionService,
    assets_prefix_for,
    scene_key_for,
)

if TYPE_CHECKING:
    from backend.budgets.provider import Budget

# How long the same words from the same person in the same channel stay one job: longer than Slack's retries of a
# command (after about 1 and 5 minutes) with room to spare, and than a person's "did that go through?" re-send.
RESEND_HOLD_S = 600
# Only a job still on its way holds the words: one that ended (rendered, failed, cancelled or expired) is no reason to
# refuse them again, sending them then is a new render.
_HOLDING = ACTIVE
_SLACK_CHANNEL = re.compile(r"[CGD][A-Z0-9]{2,}")  # a Slack conversation id (not the CLI's `cli`)


def trigger_token(trigger_id: str, user_id: str, channel_id: str, text: str) -> str:
    """The client token of one slash command: Slack's retry of it carries the same payload, so the same token."""
    normalized = " ".join(text.split())
    return hashlib.sha256(
        f"slack-trigger|{trigger_id}|{user_id}|{channel_id}|{normalized}".encode()
    ).hexdigest()


def same_words(job: Job, request: RenderRequest, scenes_prefix: str, shot_version: str) -> bool:
    """Whether `job` is what `request` asks for: the same scene, frames, settings and support files, in the same
    versions (`shot_version`: a shot shipped again, or a support file replaced, is another render)."""
    assets = assets_prefix_for(request.assets_prefix, scenes_prefix) if request.assets_prefix else None
    return (
        job.shot_version == shot_version
        and job.scene_key == scene_key_for(request.scene, scenes_prefix)
        and job.frames_spec
        == (compact(request.frame_list) if request.frame_list else normal_spec(request.frames))
        and job.settings == request.settings
        and job.assets_prefix == assets
    )


@dataclass(frozen=True)
class AlreadySent:
    """Slack re-sent this command, or the same words came from the same person in the same channel a moment ago:
    their job, nothing new queued."""

    job: Job


class DeskJobs(JobQueries, ActiveJobs, MovieJobs, Protocol):
    """What the desk reads of the job store: jobs, a class's active ones, a finished job's failed frames, and a
    job's frame records (its movie's slates)."""

    def failed_frames(self, job_id: str) -> list[int]: ...


class JobDesk:
    """The one service behind `/render` and `studiobot render`: listeners parse, acknowledge and call it."""

    def __init__(
        self,
        jobs: DeskJobs,
        submissions: SubmissionService,
        lifecycle: JobLifecycle,
        access: Access,
        clock: Callable[[], float],
        budgets: BudgetProvider | None = None,
    ) -> None:
        self.jobs = jobs
        self.budgets = budgets
        self.submissions = submissions
        self.lifecycle = lifecycle
        self.access = access
        self.clock = clock

    def run(self, command: RenderCommand, caller: Caller) -> Reply:
        """Carry out a `/render` command for `caller`, as a Reply."""
        if isinstance(command, RenderJob):
            return self._render(command.request, caller)
        if isinstance(command, CostsCommand):
            return self.spend(command)
        user, job_id = caller.user, command.job_id
        if command.action == "help":
            return Help()
        if command.action == "status":
            return self.status(self.latest(user, caller.channel, job_id))
        if command.action == "list":
            return JobsListed(self.recent(caller.channel), user, self.clock())
        assert job_id is not None  # the grammar asks for the job of submit, cancel and retry
        if command.action == "submit":
            return Submitted(self.submit(user, job_id))
        try:
            if command.action == "cancel":
                self.cancel(user, job_id)
                return Cancelled(job_id)
            if command.action in ("hold", "resume", "priority"):
                return self.steer(user, job_id, command)
            if command.action == "movie":  # anyone who may see the job may see its movie
                assert command.movie is not None  # the grammar parses it
                job = self.seen_from(user, job_id, caller.channel)
                return movie_asked(self.jobs, job, command.movie, user, self.submissions.settings.limits)
            announce_in = caller.channel if caller.terminal else None
            first, retry = self.retry(user, job_id, caller.channel, announce_in, command.changes)
        except PermissionDenied as refusal:  # said plainly: a refusal, not a mistake
            return Refused(str(refusal))
        assert retry.job is not None  # a retry is never a dry run
        return RetrySent(first.job_id, retry.job, retry.plan, retry.created)

    def _render(self, request: RenderRequest, caller: Caller) -> Reply:
        """Submit a typed render: once from Slack (`submit_typed`); from a terminal, which follows each render it
        sends, every time."""
        if caller.terminal:
            sent: Submission | AlreadySent = self.submissions.submit(
                request, requested_by=caller.user, channel=caller.channel
            )
        else:
            sent = self.submit_typed(request, caller.user, caller.channel, caller.text, caller.trigger_id)
        if isinstance(sent, AlreadySent):
            return JobSent(sent.job, None, sent_before=True)
        if sent.job is None:
            return DryRun(sent.plan)
        return JobSent(sent.job, sent.plan, sent_before=not sent.created)

    def submit_typed(
        self, request: RenderRequest, user: str, channel: str, text: str, trigger_id: str = ""
    ) -> Submission | AlreadySent:
        """Submit what someone typed, once: Slack's retries of the command (same `trigger_id`), however late, and
        the same words from them in this channel within `RESEND_HOLD_S` about the same version of the shot, while
        that job is still queued or rendering, return the first job."""
        if request.dry_run:
            return self.submissions.submit(request, requested_by=user, channel=channel)
        token = trigger_token(trigger_id, user, channel, text) if trigger_id else None
        first = self._find(job_id_for(token)) if token else None
        if first is not None:
            return AlreadySent(first)
        # The shot as it is now (its scene's and manifest's ETags): a shot fixed and shipped again renders.
        plan = self.submissions.plan(request)
        held = self._sent_just_now(request, plan, user, channel)
        if held is not None:
            return AlreadySent(held)
        # Two deliveries of one command racing past the checks above still make one job: the id is the token's.
        return self.submissions.submit(
            request, requested_by=user, channel=channel, client_token=token, plan=plan
        )

    def _sent_just_now(self, request: RenderRequest, plan: RenderPlan, user: str, channel: str) -> Job | None:
        """This person's job from the same words about the same shot in this channel within the hold, while it is
        still queued or rendering."""
        since = self.clock() - RESEND_HOLD_S
        prefix = self.submissions.settings.scenes_prefix
        for job in self.jobs.recent(channel):  # newest first
            if job.created_at < since:
                return None
            if (
                job.requested_by == user
                and job.status in _HOLDING
                and same_words(job, request, prefix, plan.shot_version)
            ):
                return job
        return None

    def job_for(self, user: str, job_id: str, verb: str) -> Job:
        """The job, if this user submitted it or is an admin; PermissionDenied saying who may `verb` it."""
        job = self.jobs.get(job_id)
        if not self.access.may_manage(user, job.requested_by):
            raise PermissionDenied(
                f"Only {mention(job.requested_by)} (who submitted `{job_id}`) or an admin can {verb} it."
            )
        return job

    def seen_from(self, user: str, job_id: str, channel: str) -> Job:
        """The job, asked about (or its button pressed) in its own channel or by an admin; else PermissionDenied
        naming where it lives: a channel's jobs, their frames and links stay in that channel."""
        job = self.jobs.get(job_id)
        if channel == job.channel or user in self.access.admins:  # the card is posted where it was asked
            return job
        where = f"<#{job.channel}>" if _SLACK_CHANNEL.fullmatch(job.channel) else "another channel"
        raise PermissionDenied(f"`{job_id}` belongs to {where}: ask about it there (or ask an admin).")

    def latest(self, user: str, channel: str, job_id: str | None) -> Job | None:
        """The job asked about (when this channel may see it), or this user's latest in the channel (None when they
        have none)."""
        if job_id is not None:
            return self.seen_from(user, job_id, channel)
        mine = [job for job in self.jobs.recent(channel) if job.requested_by == user]
        return mine[0] if mine else None

    def status(self, job: Job | None) -> StatusShown:
        """A job's status now, with what is ahead of it while it waits in the queue."""
        now = self.clock()
        return StatusShown(job, now, position_of(job, self.jobs, now) if job is not None else None)

    def recent(self, channel: str) -> list[Job]:
        """The channel's recent jobs, newest first."""
        return self.jobs.recent(channel)

    def cancel(self, user: str, job_id: str) -> Job:
        """Cancel a job its submitter (or an admin) wants stopped, and announce its end."""
        self.job_for(user, job_id, "cancel")
        return self.lifecycle.cancel(job_id)

    def steer(self, user: str, job_id: str, command: JobCommand) -> Reply:
        """Hold, resume or re-prioritise a job its submitter (or an admin) wants to."""
        job = self.job_for(user, job_id, command.action if command.action != "priority" else "re-prioritise")
        if job.held_by == BUDGET_GUARD and command.action == "resume" and user not in self.access.admins:
            raise PermissionDenied(f"`{job_id}` was held by the budget guard: only an admin can resume it.")
        if command.action == "hold":
            return Held(self.lifecycle.hold(job_id, user))
        if command.action == "resume":
            return Resumed(*self.lifecycle.resume_held(job_id))
        assert command.priority is not None  # the grammar asks for it
        return Reprioritised(*self.lifecycle.prioritise(job_id, command.priority))

    def retry(
        self,
        user: str,
        job_id: str,
        asked_in: str,
        announce_in: str | None = None,
        changes: RetryRequest | None = None,
    ) -> tuple[Job, Submission]:
        """A new job for a finished job's failed frames, announced in `announce_in` (default: the first job's
        channel, else where it was asked), with `changes` (tiles, samples, resolution); asking again returns that
        same retry job."""
        job = self.job_for(user, job_id, "retry")
        failed = self.jobs.failed_frames(job_id)
        channel = announce_in or job.channel or asked_in
        return job, self.submissions.retry(job, failed, requested_by=user, channel=channel, changes=changes)

    def submit(self, user: str, job_id: str) -> Job:
        """Press Submit on a job that waits for it (who may is the fan-out's rule)."""
        return self.lifecycle.approve(job_id, user)

    def spend(self, command: CostsCommand) -> CostsShown:
        """The month's measured spend grouped (default: this month, by the desk's clock), beside AWS Budgets'
        actual spend when the month is this one and the account has a monthly cost budget it may read."""
        now = month_of(self.clock())
        month = command.month or now
        settings = self.submissions.settings
        jobs = self.jobs.month_jobs(month)
        budgets = self._month_budgets() if month == now else None
        return costs_shown(month, command.by, jobs, settings.costs, settings.scenes_prefix, budgets)

    def _month_budgets(self) -> list[Budget] | None:
        """The account's monthly cost budgets (their actual spend is this month's), or None when there are none
        or AWS Budgets cannot be read (the costs are shown without them)."""
        if self.budgets is None:
            return None
        try:
            found = [
                budget
                for budget in self.budgets.all()
                if budget.unit == "USD" and budget.time_unit == "MONTHLY"
            ]
        except StudiobotError:
            return None
        return found or None

    def _find(self, job_id: str) -> Job | None:
        try:
            return self.jobs.get(job_id)
        except NotFoundError:
            return None
