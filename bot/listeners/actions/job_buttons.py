"""Submit, Cancel, Retry failed and Outputs on the job card. Double clicks are harmless: every change is conditional.

A button passes the rules a command does (the user and the channel on the allow-lists) and one more: it acts only
from the job's own channel (or for an admin), so no job's frames or links reach another channel.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from backend.errors import PermissionDenied
from bot.listeners.commands.render import cancel_job, retry_job, submit_job
from bot.messages.render_completion import outputs_text
from bot.polite import polite
from bot.services import Services

LINKS = 50  # at most, and only as many as fit in one message (`outputs_text`)


def ack_button(ack: Ack) -> None:
    ack()


def _clicked(body: dict[str, Any], context: BoltContext) -> tuple[str, str, str]:
    """Who pressed which job's button where, once they may: PermissionDenied (answered by `polite`) otherwise."""
    action = body["actions"][0]
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or ""
    user, job_id = body["user"]["id"], str(action.get("value") or "")
    refusal = context["settings"].access.refusal(user, channel)
    if refusal:
        raise PermissionDenied(refusal)
    context["services"].desk.seen_from(user, job_id, channel)
    return user, channel, job_id


@polite
def cancel_clicked(respond: Respond, body: dict[str, Any], context: BoltContext) -> None:
    user, _, job_id = _clicked(body, context)
    cancel_job(respond, context["services"], user, job_id)


@polite
def submit_clicked(respond: Respond, body: dict[str, Any], context: BoltContext) -> None:
    user, _, job_id = _clicked(body, context)
    submit_job(respond, context["services"], user, job_id)


@polite
def retry_clicked(respond: Respond, client: WebClient, body: dict[str, Any], context: BoltContext) -> None:
    user, channel, job_id = _clicked(body, context)
    retry_job(respond, client, context["services"], user, channel, job_id)


@polite
def outputs_clicked(respond: Respond, body: dict[str, Any], context: BoltContext) -> None:
    """Links to the job's frames, valid `linkDays` (signed by studiobot), sent to the person who asked."""
    services: Services = context["services"]
    _, _, job_id = _clicked(body, context)
    job = services.jobs.get(job_id)
    objects = services.store.list_prefix(job.output_bucket, job.output_prefix)
    if not objects:
        respond(
            text=f"`{job_id}` has no frames in S3 yet.", response_type="ephemeral", replace_original=False
        )
        return
    listed = sorted(objects, key=lambda item: item.key)[:LINKS]
    links = [(services.links.url(item.key), item.key) for item in listed]
    text = outputs_text(job, links, len(objects), services.links.valid_for)
    respond(text=text, response_type="ephemeral", replace_original=False)
