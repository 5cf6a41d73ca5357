"""`/render`: the ack answers help, refusals and mistakes in the words (without AWS); a lazy listener calls the render
desk (`backend.render.desk`) and posts what it returns: a new job's card in the channel, anything else to whoever
asked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from backend.commands import Caller, Reply, split_words
from backend.render.desk_replies import (
    Held,
    JobSent,
    MovieAsked,
    Reprioritised,
    Resumed,
    RetrySent,
    StatusShown,
    Submitted,
)
from backend.render.grammar import JobCommand, RenderCommand, RenderGrammar, RetryRequest, render_subcommand
from backend.render.records import Job
from bot.listeners.commands.slash import SlashCommand, respond_with
from bot.messages.render import approval_request
from bot.messages.render_replies import (
    card_not_posted_text,
    render_message,
    sent_before_text,
    steered_text,
)
from bot.messages.replies import Message
from bot.messages.text import KEY_CHARS, clip
from bot.polite import logger
from bot.queue_cards import card_message
from bot.services import Services

if TYPE_CHECKING:
    from backend.render.desk import JobDesk


def ack_render(ack: Ack, command: dict[str, Any]) -> None:
    """A command with work to do: say "on it" (the lazy listener answers when done)."""
    words = split_words(command.get("text", ""))
    if render_subcommand(words) == "movie" and len(words) > 1:  # it takes a while: said at once
        ack(text=f"⏳ Making the movie of `{clip(words[1], KEY_CHARS)}`…", response_type="ephemeral")
    elif render_subcommand(words):
        ack()
    else:
        ack(
            text=f"⏳ Checking `{clip(' '.join(words[:2]), KEY_CHARS, keep_end=True)}`…",
            response_type="ephemeral",
        )


def _desk(services: Services) -> JobDesk:
    return services.desk


def post_reply(
    reply: Reply, respond: Respond, client: WebClient | None, services: Services, caller: Caller
) -> None:
    """Post what the desk returned: a new job's card in the channel (once), anything else to whoever asked."""
    if isinstance(reply, JobSent):
        assert client is not None  # a command's listener always has one
        _announce(respond, client, services, reply.job, caller.channel, reply.sent_before)
    elif isinstance(reply, RetrySent) and reply.created:
        assert client is not None  # the command's listener and the Retry button have one
        # a retry's card goes to the first job's channel, where its thread is
        post_card(client, services, reply.job.job_id, reply.job.channel or caller.channel)
    elif isinstance(reply, StatusShown):
        respond_with(respond, status_answer(services, reply))
    elif isinstance(reply, Held | Resumed | Reprioritised):
        respond_with(respond, render_message(reply, services.settings.costs))
        if client is not None:
            tell_thread(client, services, reply)
    elif isinstance(reply, MovieAsked):  # made by the notifier, in the job's thread
        from bot.dailies import ask_for_movie  # Pillow: after the ack only

        respond(text=ask_for_movie(services, reply, caller), response_type="ephemeral")
    elif isinstance(reply, Submitted):  # a button's answer never replaces the card it was pressed on
        respond_with(respond, render_message(reply, services.settings.costs), replace_original=False)
    else:
        respond_with(respond, render_message(reply, services.settings.costs))


RENDER = SlashCommand[RenderCommand](
    "/render",
    RenderGrammar(),
    _desk,
    lambda reply, settings: render_message(reply, settings.costs),
    post=post_reply,
    ack=ack_render,
)
immediate_answer = RENDER.immediate_answer


def status_answer(services: Services, reply: StatusShown) -> Message:
    """A job's status, with a fresh link to its frames when it ended and they are kept (for Slack and the CLI)."""
    from bot.archive import fresh_link  # loads boto3: after the ack only

    link = fresh_link(services.store, reply.job, services.links) if reply.job is not None else None
    valid_for = services.links.valid_for if link else ""
    return render_message(reply, services.settings.costs, link, valid_for)


def _announce(
    respond: Respond, client: WebClient, services: Services, job: Job, channel: str, sent_before: bool
) -> None:
    """Post a new job's card, once: sent again (Slack's retry, the same words re-sent) when its card is in the
    channel already, say so instead; sent again because its card never came, post it now."""
    from bot.cards import card_store  # loads boto3: after the ack only

    if sent_before and card_store(services).card(job.job_id) is not None:
        respond(text=sent_before_text(job.job_id), response_type="ephemeral")
        return
    try:
        post_card(client, services, job.job_id, channel, job)
    except Exception as error:  # the job exists: say so, not "nothing was changed"
        logger.warning("job card not posted", job_id=job.job_id, error=repr(error))
        now = services.announcer.current(job.job_id)
        respond(text=card_not_posted_text(now, error), response_type="ephemeral")


def post_card(
    client: WebClient, services: Services, job_id: str, channel: str, job: Job | None = None
) -> None:
    """Post the job card in the channel (`job`: as the desk just read it, else read now); the render side says
    whether its thread must ask for Submit now."""
    from bot.cards import card_store  # loads boto3: after the ack only

    announcer = services.announcer
    job = job or announcer.current(job_id)
    text, blocks = card_message(services, job)  # with what is ahead of it, while it waits
    posted = client.chat_postMessage(channel=channel, text=text, blocks=blocks)
    card = card_store(services).attach(job_id, posted["channel"], posted["ts"])  # or the one posted first
    notice = announcer.ask_for_submit(job)
    if notice is not None:
        ask = approval_request(notice.job, services.settings.access.admins)
        try:
            client.chat_postMessage(channel=card.channel, thread_ts=card.ts, text=ask)
        except Exception:
            announcer.notice_not_posted(notice)  # the estimate's redelivery asks again
            raise


def tell_thread(client: WebClient, services: Services, reply: Held | Resumed | Reprioritised) -> None:
    """The job's card shows the hold (or its end, or the new priority) and its thread says who did it; a card
    Slack does not take now is shown right by the next progress."""
    from bot.cards import card_store  # loads boto3: after the ack only

    card = card_store(services).card(reply.job.job_id)
    if card is None:
        return
    try:
        text, blocks = card_message(services, reply.job)  # a resumed job waits again: with what is ahead
        client.chat_update(channel=card.channel, ts=card.ts, text=text, blocks=blocks)
        client.chat_postMessage(channel=card.channel, thread_ts=card.ts, text=steered_text(reply))
    except Exception as error:  # the job is held (or resumed) all the same
        logger.warning("card not told", job_id=reply.job.job_id, error=repr(error))


# The job card's buttons (`bot.listeners.actions.job_buttons`): the same desk, the same replies.


def _run_job_command(
    respond: Respond, client: WebClient | None, services: Services, caller: Caller, command: JobCommand
) -> None:
    post_reply(services.desk.run(command, caller), respond, client, services, caller)


def submit_job(respond: Respond, services: Services, user: str, job_id: str) -> None:
    """Submit a job that waits for it (the Submit button): who may is the backend's call."""
    _run_job_command(respond, None, services, Caller(user, ""), JobCommand("submit", job_id))


def cancel_job(respond: Respond, services: Services, user: str, job_id: str) -> None:
    """Cancel a job if the user may (its submitter or an admin)."""
    _run_job_command(respond, None, services, Caller(user, ""), JobCommand("cancel", job_id))


def retry_job(
    respond: Respond,
    client: WebClient,
    services: Services,
    user: str,
    channel: str,
    job_id: str,
    changes: RetryRequest | None = None,
) -> None:
    """Render a finished job's failed frames again, as a new job with its own card in the first job's channel."""
    _run_job_command(respond, client, services, Caller(user, channel), JobCommand("retry", job_id, changes))
