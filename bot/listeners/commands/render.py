"""`/render`: acknowledge at once (grammar and access checked without AWS), do the work in a lazy listener."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from backend.commands import split_words
from backend.config import Settings
from backend.errors import PermissionDenied, StudiobotError, ValidationError
from backend.render.frames import check_frame_spec
from backend.render.grammar import (
    RENDER_JOB_SUBCOMMANDS,
    RetryRequest,
    parse_render,
    parse_retry,
    render_subcommand,
)
from backend.render.records import JobStatus
from bot.messages import Blocks, error_message, said, section
from bot.messages.render import approval_request, help_message, job_card, job_list, status_message
from bot.messages.render_plan import dry_run_text
from bot.messages.text import KEY_CHARS, clip, sentence
from bot.polite import logger, polite
from bot.services import Services

Reply = Callable[..., Any]  # Bolt's `respond`, or the CLI's printer: `reply(text=..., response_type=...)`


def _check(words: list[str], settings: Settings) -> None:
    """Raise ValidationError for anything wrong that needs no AWS call to see."""
    sub = render_subcommand(words)
    if sub is None:
        request = parse_render(words, settings.limits)
        check_frame_spec(request.frames, settings.limits.max_frames_per_job)
        return
    rest = words[1:]
    if sub == "retry":  # its job, and what to change for the failed frames
        parse_retry(rest, settings.limits)
        return
    if sub in RENDER_JOB_SUBCOMMANDS and len(rest) != 1:
        raise ValidationError(
            f"Say which job to {sub}, e.g. `/render {sub} r1a2b3c4d5` (`/render list` shows them)."
        )
    if (sub == "status" and len(rest) > 1) or (sub in ("help", "list") and rest):
        raise ValidationError(f"`/render {sub}` takes {'one job id' if sub == 'status' else 'nothing more'}.")


def immediate_answer(command: dict[str, Any], settings: Settings) -> tuple[str, Blocks] | None:
    """The whole answer when the ack can give it (help, a refusal, a mistake); None when there is work to do."""
    refusal = settings.access.refusal(command["user_id"], command["channel_id"])
    if refusal:
        return said(refusal)
    try:
        words = split_words(command.get("text", ""))
        if not words or words[0].lower() == "help":
            return help_message(settings.costs)
        _check(words, settings)
    except StudiobotError as error:
        return error_message(str(error))
    return None


def ack_render(ack: Ack, command: dict[str, Any]) -> None:
    """A command with work to do: say "on it" (the lazy listener answers when done)."""
    words = split_words(command.get("text", ""))
    if render_subcommand(words):
        ack()
    else:
        ack(
            text=f"⏳ Checking `{clip(' '.join(words[:2]), KEY_CHARS, keep_end=True)}`…",
            response_type="ephemeral",
        )


@polite
def run_render(respond: Respond, client: WebClient, command: dict[str, Any], context: BoltContext) -> None:
    """The work behind `/render`, after the ack (the checks in the ack already passed)."""
    services: Services = context["services"]
    user, channel = command["user_id"], command["channel_id"]
    words = split_words(command.get("text", ""))  # the matcher let only well-formed commands through
    sub = render_subcommand(words)
    job_id = words[1] if len(words) > 1 else None
    if sub is None:
        submit_render(
            respond, client, services, user, channel, command.get("text", ""), command.get("trigger_id", "")
        )
    elif sub == "status":
        status_reply(respond, services, user, channel, job_id)
    elif sub == "list":
        text, list_blocks = job_list(services.desk.recent(channel), user, services.clock())
        respond(text=text, blocks=list_blocks, response_type="ephemeral")
    elif sub == "cancel" and job_id:
        cancel_job(respond, services, user, job_id)
    elif sub == "retry" and job_id:
        changes = parse_retry(words[1:], services.settings.limits)
        retry_job(respond, client, services, user, channel, job_id, changes)
    elif sub == "submit" and job_id:
        submit_job(respond, services, user, job_id)


def submit_render(
    respond: Respond,
    client: WebClient,
    services: Services,
    user: str,
    channel: str,
    text: str,
    trigger_id: str = "",
) -> None:
    """Submit a typed render and post its card, once: Slack's retries of the command (its `trigger_id`) and the
    same words re-sent within minutes are the same job."""
    from backend.render.desk import AlreadySent  # loads boto3: after the ack only

    request = parse_render(split_words(text), services.settings.limits)
    submission = services.desk.submit_typed(request, user, channel, text, trigger_id)
    if not isinstance(submission, AlreadySent) and submission.job is None:
        respond(text=dry_run_text(submission.plan), response_type="ephemeral")
        return
    job = submission.job
    assert job is not None
    sent_before = isinstance(submission, AlreadySent) or not submission.created
    # Sent again because its card never came (Slack failed after the job was made): the card is posted now.
    if sent_before and services.announcer.current(job.job_id).card_ts:
        respond(
            text=f"You sent this render a moment ago: it is job `{job.job_id}` (its card is in the channel). "
            f"Nothing new was queued.",
            response_type="ephemeral",
        )
        return
    try:
        post_card(client, services, job.job_id, channel)
    except Exception as error:  # the job exists: say so, not "nothing was changed"
        logger.warning("job card not posted", job_id=job.job_id, error=repr(error))
        waits = services.announcer.current(job.job_id).status is JobStatus.AWAITING_APPROVAL
        then = f"it waits for Submit: `/render submit {job.job_id}`" if waits else "its frames are queued"
        respond(
            text=f"Job `{job.job_id}` was created and {then}, but its card could not be posted in the channel "
            f"(Slack answered: {type(error).__name__}). `/render status {job.job_id}` shows it; sending the same "
            f"command again posts the card, without a second job.",
            response_type="ephemeral",
        )


def post_card(client: WebClient, services: Services, job_id: str, channel: str) -> None:
    """Post the job card in the channel; the render side says whether its thread must ask for Submit now."""
    announcer = services.announcer
    job = announcer.current(job_id)
    text, card = job_card(job, services.clock(), services.settings.costs)
    posted = client.chat_postMessage(channel=channel, text=text, blocks=card)
    notice = announcer.ask_for_submit(announcer.card_posted(job, posted["channel"], posted["ts"]))
    if notice is not None:
        ask = approval_request(notice.job, services.settings.access.admins)
        try:
            client.chat_postMessage(channel=posted["channel"], thread_ts=posted["ts"], text=ask)
        except Exception:
            announcer.notice_not_posted(notice)  # the estimate's redelivery asks again
            raise


def status_reply(respond: Reply, services: Services, user: str, channel: str, job_id: str | None) -> None:
    """A job's status card (the user's latest in this channel when no id is given)."""
    job = services.desk.latest(user, channel, job_id)
    if job is None:
        respond(
            text="You have no renders in this channel yet: try `/render help`.", response_type="ephemeral"
        )
        return
    from bot.archive import fresh_link  # loads boto3: after the ack only

    text, status_blocks = status_message(job, services.clock(), services.settings.costs)
    link = fresh_link(services.store, job, services.links)
    if link:  # a link posted days ago may have expired: this one lasts its days again
        line = f"<{link}|Download the frames> (link valid {services.links.valid_for})"
        text, status_blocks = f"{text}\n{line}", [*status_blocks, section(line)]
    respond(text=text, blocks=status_blocks, response_type="ephemeral")


def submit_job(respond: Reply, services: Services, user: str, job_id: str) -> None:
    """Submit a job that waits for it (the Submit button, `/render submit JOB`): who may is the backend's call."""
    job = services.desk.submit(user, job_id)
    what = (
        "its probe frames render first"
        if job.probe_frames and job.estimate is None
        else "its frames are on their way"
    )
    respond(text=f"▶️ Submitted `{job_id}`: {what}.", response_type="ephemeral", replace_original=False)


def cancel_job(respond: Reply, services: Services, user: str, job_id: str) -> None:
    """Cancel a job if the user may (its submitter or an admin)."""
    try:
        services.desk.cancel(user, job_id)
    except PermissionDenied as refusal:  # said plainly: a refusal, not a mistake
        respond(text=sentence(str(refusal)), response_type="ephemeral")
        return
    respond(
        text=f"🛑 Cancelled `{job_id}`: frames not yet rendered will be skipped.", response_type="ephemeral"
    )


def retry_job(
    respond: Respond,
    client: WebClient,
    services: Services,
    user: str,
    channel: str,
    job_id: str,
    changes: RetryRequest | None = None,
) -> None:
    """Render a finished job's failed frames again, as a new job with its own card in the first job's channel
    (frames the watchdog stopped re-planned as tiles, unless `changes` say otherwise)."""
    try:
        _, submission = services.desk.retry(user, job_id, asked_in=channel, changes=changes)
    except PermissionDenied as refusal:  # said plainly: a refusal, not a mistake
        respond(text=sentence(str(refusal)), response_type="ephemeral")
        return
    assert submission.job is not None  # a retry is never a dry run
    if not submission.created:
        respond(
            text=f"`{job_id}` is already being retried as `{submission.job.job_id}`.",
            response_type="ephemeral",
        )
        return
    post_card(client, services, submission.job.job_id, submission.job.channel or channel)
