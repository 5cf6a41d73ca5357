"""`/render`: acknowledge at once (grammar and access checked without AWS), do the work in a lazy listener."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from backend.commands import parse_render, split_words
from backend.config import Settings
from backend.errors import StudiobotError, ValidationError
from backend.render.frames import check_frame_spec
from backend.render.records import Job, JobStatus
from bot import blocks
from bot.polite import polite
from bot.services import Services, resend_tokens

SUBCOMMANDS = {"help", "status", "list", "cancel", "retry", "submit"}
Reply = Callable[..., Any]  # Bolt's `respond`, or the CLI's printer: `reply(text=..., response_type=...)`


def _check(words: list[str], settings: Settings) -> None:
    """Raise ValidationError for anything wrong that needs no AWS call to see."""
    if not words or words[0].lower() not in SUBCOMMANDS:
        request = parse_render(words, settings.limits)
        check_frame_spec(request.frames, settings.limits.max_frames_per_job)
        return
    sub, rest = words[0].lower(), words[1:]
    if sub in ("cancel", "retry", "submit") and len(rest) != 1:
        raise ValidationError(
            f"Say which job to {sub}, e.g. `/render {sub} r1a2b3c4d5` (`/render list` shows them)."
        )
    if (sub == "status" and len(rest) > 1) or (sub in ("help", "list") and rest):
        raise ValidationError(f"`/render {sub}` takes {'one job id' if sub == 'status' else 'nothing more'}.")


def immediate_answer(command: dict[str, Any], settings: Settings) -> tuple[str, blocks.Blocks] | None:
    """The whole answer when the ack can give it (help, a refusal, a mistake); None when there is work to do."""
    refusal = settings.access.refusal(command["user_id"], command["channel_id"])
    if refusal:
        return refusal, [{"type": "section", "text": {"type": "mrkdwn", "text": refusal}}]
    try:
        words = split_words(command.get("text", ""))
        if not words or words[0].lower() == "help":
            return blocks.help_message(settings.costs)
        _check(words, settings)
    except StudiobotError as error:
        return blocks.error_message(str(error))
    return None


def ack_render(ack: Ack, command: dict[str, Any]) -> None:
    """A command with work to do: say "on it" (the lazy listener answers when done)."""
    words = split_words(command.get("text", ""))
    if words[0].lower() in SUBCOMMANDS:
        ack()
    else:
        ack(text=f"⏳ Checking `{' '.join(words[:2])}`…", response_type="ephemeral")


@polite
def run_render(respond: Respond, client: WebClient, command: dict[str, Any], context: BoltContext) -> None:
    """The work behind `/render`, after the ack (the checks in the ack already passed)."""
    settings: Settings = context["settings"]
    services: Services = context["services"]
    user, channel = command["user_id"], command["channel_id"]
    words = split_words(command.get("text", ""))  # the matcher let only well-formed commands through
    sub = words[0].lower()
    if sub == "status":
        status_reply(respond, services, user, channel, words[1] if len(words) > 1 else None)
    elif sub == "list":
        text, list_blocks = blocks.job_list(services.jobs.recent(channel), user, services.clock())
        respond(text=text, blocks=list_blocks, response_type="ephemeral")
    elif sub == "cancel":
        cancel_job(respond, services, settings, user, words[1])
    elif sub == "retry":
        retry_job(respond, client, services, settings, user, channel, words[1])
    elif sub == "submit":
        submit_job(respond, services, user, words[1])
    else:
        _submit(respond, client, services, user, channel, command.get("text", ""), words, settings)


def _submit(
    respond: Respond,
    client: WebClient,
    services: Services,
    user: str,
    channel: str,
    text: str,
    words: list[str],
    settings: Settings,
) -> None:
    from backend.errors import NotFoundError
    from backend.render.store import job_id_for

    request = parse_render(words, settings.limits)
    current, previous = resend_tokens(user, channel, text, services.clock())
    if not request.dry_run:
        try:
            earlier = services.jobs.get(job_id_for(previous))
        except NotFoundError:
            earlier = None
        if earlier is not None:
            _already(respond, earlier.job_id)
            return
    submission = services.submissions.submit(
        request, requested_by=user, channel=channel, client_token=current
    )
    if submission.job is None:
        respond(
            text=f"*Dry run*, nothing was queued. This is what would run:\n{submission.plan.describe()}",
            response_type="ephemeral",
        )
        return
    if not submission.created:
        _already(respond, submission.job.job_id)
        return
    post_card(client, services, submission.job.job_id, channel)


def _already(respond: Respond, job_id: str) -> None:
    respond(
        text=f"You sent this render a moment ago: it is job `{job_id}` (its card is in the channel). "
        f"Nothing new was queued.",
        response_type="ephemeral",
    )


def post_card(client: WebClient, services: Services, job_id: str, channel: str) -> None:
    """Post the job card in the channel and remember it on the job, so the notifier updates it in place."""
    job = services.jobs.get(job_id)
    text, card = blocks.job_card(job, services.clock(), services.settings.costs)
    posted = client.chat_postMessage(channel=channel, text=text, blocks=card)
    services.jobs.attach_card(job_id, posted["channel"], posted["ts"])
    if job.status is JobStatus.AWAITING_APPROVAL and services.jobs.claim_notice(job_id, "estimate"):
        # held before anything rendered (the budget guard): ask whoever must submit, as after probes
        ask = blocks.approval_request(job, services.settings.access.admins)
        try:
            client.chat_postMessage(channel=posted["channel"], thread_ts=posted["ts"], text=ask)
        except Exception:
            services.jobs.release_notice(job_id, "estimate")
            raise


def status_reply(respond: Reply, services: Services, user: str, channel: str, job_id: str | None) -> None:
    if job_id is None:
        mine = [job for job in services.jobs.recent(channel) if job.requested_by == user]
        if not mine:
            respond(
                text="You have no renders in this channel yet: try `/render help`.", response_type="ephemeral"
            )
            return
        job = mine[0]
    else:
        job = services.jobs.get(job_id)
    text, status_blocks = blocks.status_message(job, services.clock(), services.settings.costs)
    respond(text=text, blocks=status_blocks, response_type="ephemeral")


def submit_job(respond: Reply, services: Services, user: str, job_id: str) -> None:
    """Submit a job that waits for it (the Submit button, `/render submit JOB`): who may is the backend's call."""
    job = services.fanout.approve(job_id, user)
    what = (
        "its probe frames render first"
        if job.probe_frames and job.estimate is None
        else "its frames are on their way"
    )
    respond(text=f"▶️ Submitted `{job_id}`: {what}.", response_type="ephemeral", replace_original=False)


def _job_they_may_manage(
    respond: Reply, services: Services, settings: Settings, user: str, job_id: str, verb: str
) -> Job | None:
    """The job, if this user submitted it or is an admin; otherwise say who may, and None."""
    job = services.jobs.get(job_id)
    if settings.access.may_manage(user, job.requested_by):
        return job
    respond(
        text=f"Only <@{job.requested_by}> (who submitted `{job_id}`) or an admin can {verb} it.",
        response_type="ephemeral",
    )
    return None


def cancel_job(respond: Reply, services: Services, settings: Settings, user: str, job_id: str) -> None:
    """Cancel a job if the user may (its submitter or an admin)."""
    if _job_they_may_manage(respond, services, settings, user, job_id, "cancel") is None:
        return
    services.reporter.cancel(job_id)
    respond(
        text=f"🛑 Cancelled `{job_id}`: frames not yet rendered will be skipped.", response_type="ephemeral"
    )


def retry_job(
    respond: Respond,
    client: WebClient,
    services: Services,
    settings: Settings,
    user: str,
    channel: str,
    job_id: str,
) -> None:
    """Render a finished job's failed frames again, as a new job with its own card."""
    job = _job_they_may_manage(respond, services, settings, user, job_id, "retry")
    if job is None:
        return
    failed = services.jobs.failed_frames(job_id)
    submission = services.submissions.retry(job, failed, requested_by=user, channel=job.channel or channel)
    assert submission.job is not None
    if not submission.created:
        respond(
            text=f"`{job_id}` is already being retried as `{submission.job.job_id}`.",
            response_type="ephemeral",
        )
        return
    post_card(client, services, submission.job.job_id, job.channel or channel)
