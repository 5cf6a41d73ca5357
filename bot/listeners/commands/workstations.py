"""`/workstations`: the ack answers help and mistakes; status and changes run in a lazy listener."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from slack_bolt import BoltContext, Respond

from backend.commands import Caller
from backend.config import Settings
from backend.errors import PermissionDenied
from backend.workstations.desk import WorkstationsDesk
from backend.workstations.grammar import WorkstationsCommand, WorkstationsGrammar
from bot.listeners.commands.slash import SlashCommand
from bot.messages import Blocks
from bot.messages.pages import PAGE_ROWS
from bot.messages.replies import workstations_message
from bot.polite import polite
from bot.services import Services


def _desk(services: Services) -> WorkstationsDesk:
    # the running workstations on the page shown are asked who is connected, now
    return WorkstationsDesk(services.workstations, PAGE_ROWS)


WORKSTATIONS = SlashCommand[WorkstationsCommand](
    "/workstations", WorkstationsGrammar(), _desk, lambda reply, settings: workstations_message(reply)
)
immediate_answer = WORKSTATIONS.immediate_answer


def run(services: Services, parsed: WorkstationsCommand, user: str) -> tuple[str, Blocks]:
    """Carry out a parsed command; the answer as text and blocks (the buttons' too)."""
    return workstations_message(_desk(services).run(parsed, Caller(user, "")))


def _button_refusal(body: dict[str, Any], settings: Settings) -> str | None:
    """The rules of `/workstations` for its buttons; they come to the owner's DM and the ops channel, which need not
    be on the channel list, so there only the user list applies."""
    user = body["user"]["id"]
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or ""
    access = settings.access
    if channel.startswith("D") or (channel and channel == settings.ops_channel):
        access = replace(access, allowed_channels=frozenset())
    return access.refusal(user, channel)


@polite
def extend_clicked(respond: Respond, body: dict[str, Any], context: BoltContext) -> None:
    refusal = _button_refusal(body, context["settings"])
    if refusal:
        raise PermissionDenied(refusal)
    name = body["actions"][0]["value"]
    text, answer = run(context["services"], WorkstationsCommand("extend", name, "2h"), body["user"]["id"])
    respond(text=text, blocks=answer, response_type="ephemeral", replace_original=False)


@polite
def stop_clicked(respond: Respond, body: dict[str, Any], context: BoltContext) -> None:
    refusal = _button_refusal(body, context["settings"])
    if refusal:
        raise PermissionDenied(refusal)
    name = body["actions"][0]["value"]
    text, answer = run(context["services"], WorkstationsCommand("stop", name), body["user"]["id"])
    respond(text=text, blocks=answer, response_type="ephemeral", replace_original=False)
