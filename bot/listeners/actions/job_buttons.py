"""Submit, Cancel, Retry failed and Outputs on the job card. Double clicks are harmless: every change is conditional."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from backend.wiring import Services
from bot.listeners.commands.render import cancel_job, retry_job, submit_job
from bot.messages.render_completion import outputs_text
from bot.polite import polite

LINK_EXPIRY_S = 7 * 24 * 3600
LINKS = 50  # at most, and only as many as fit in one message (`outputs_text`)


def ack_button(ack: Ack) -> None:
    ack()


def _clicked(body: dict[str, Any]) -> tuple[str, str, str]:
    action = body["actions"][0]
    channel = (body.get("channel") or {}).get("id", "")
    return body["user"]["id"], channel, action["value"]


@polite
def cancel_clicked(respond: Respond, body: dict[str, Any], context: BoltContext) -> None:
    user, _, job_id = _clicked(body)
    cancel_job(respond, context["services"], user, job_id)


@polite
def submit_clicked(respond: Respond, body: dict[str, Any], context: BoltContext) -> None:
    user, _, job_id = _clicked(body)
    submit_job(respond, context["services"], user, job_id)


@polite
def retry_clicked(respond: Respond, client: WebClient, body: dict[str, Any], context: BoltContext) -> None:
    user, channel, job_id = _clicked(body)
    retry_job(respond, client, context["services"], user, channel, job_id)


@polite
def outputs_clicked(respond: Respond, body: dict[str, Any], context: BoltContext) -> None:
    """Links to the job's frames, valid for 7 days, sent to the person who asked."""
    services: Services = context["services"]
    _, _, job_id = _clicked(body)
    job = services.jobs.get(job_id)
    objects = services.store.list_prefix(job.output_bucket, job.output_prefix)
    if not objects:
        respond(
            text=f"`{job_id}` has no frames in S3 yet.", response_type="ephemeral", replace_original=False
        )
        return
    listed = sorted(objects, key=lambda item: item.key)[:LINKS]
    links = [
        (services.store.presigned_url(job.output_bucket, item.key, LINK_EXPIRY_S), item.key)
        for item in listed
    ]
    respond(text=outputs_text(job, links, len(objects)), response_type="ephemeral", replace_original=False)
