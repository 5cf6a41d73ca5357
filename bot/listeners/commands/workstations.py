"""`/workstations`: the ack answers help and mistakes; status and changes run in a lazy listener."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from backend.commands import split_words
from backend.config import Settings
from backend.errors import PermissionDenied, StudiobotError
from backend.workstations.grammar import WorkstationsCommand, parse_workstations
from bot.messages import Blocks, error_message, section
from bot.messages.pages import PAGE_ROWS
from bot.messages.workstations import WORKSTATIONS_HELP, change_text, workstations_table
from bot.polite import polite
from bot.services import Services


def immediate_answer(command: dict[str, Any], settings: Settings) -> tuple[str, Blocks] | None:
    """The whole answer when the ack can give it (help, a refusal, a mistake); None when there is work."""
    refusal = settings.access.refusal(command["user_id"], command["channel_id"])
    if refusal:
        return error_message(refusal)
    try:
        parsed = parse_workstations(split_words(command.get("text", "")))
    except StudiobotError as error:
        return error_message(str(error))
    if parsed.action == "help":
        return WORKSTATIONS_HELP, [section(WORKSTATIONS_HELP)]
    return None


def ack_workstations(ack: Ack) -> None:
    ack()


def run(services: Services, parsed: WorkstationsCommand, user: str) -> tuple[str, Blocks]:
    """Carry out a parsed command; the answer as text and blocks (shared by Slack and the CLI)."""
    service = services.workstations
    if parsed.action == "status":
        # the running workstations on the page shown are asked who is connected, now
        return workstations_table(service.status(ask_page=(parsed.page, PAGE_ROWS)), parsed.page)
    if parsed.action == "start":
        change = service.start(parsed.name, user)
    elif parsed.action == "stop":
        change = service.stop(parsed.name, user)
    elif parsed.action == "keepalive":
        change = service.keepalive(parsed.name, parsed.argument == "on", user)
    else:
        change = service.extend(parsed.name, parsed.argument, user)
    text = change_text(change)
    return text, [section(text)]


@polite
def run_workstations(respond: Respond, command: dict[str, Any], context: BoltContext) -> None:
    parsed = parse_workstations(split_words(command.get("text", "")))
    text, answer = run(context["services"], parsed, command["user_id"])
    respond(text=text, blocks=answer, response_type="ephemeral")


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
