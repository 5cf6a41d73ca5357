"""The Home tab's buttons: Cancel, Retry failed and Movie on a job; Start, Stop and Extend 2 h on a workstation.

Each runs the same desk as its command (`/render cancel|retry|movie JOB`, `/workstations start|stop|extend`), with
the commands' rules (the user list; the desk decides who may change which job or workstation). A Home has no
`response_url`: the answer comes as a direct message from studiobot, and the Home is refreshed after.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from backend.commands import Caller, split_words
from backend.errors import PermissionDenied
from backend.workstations.grammar import WorkstationsCommand
from bot.listeners.commands.render import RENDER, cancel_job, post_reply, retry_job
from bot.listeners.commands.slash import respond_with
from bot.listeners.commands.workstations import run as run_workstations
from bot.listeners.events.home import home_refusal
from bot.messages.replies import Message
from bot.polite import polite
from bot.services import Services

Act = Callable[[Respond, WebClient, Services, str, str], None]  # respond, client, services, user, value


class DirectMessage:
    """A `respond` for the Home: the answer goes to the person as a direct message from studiobot."""

    def __init__(self, client: WebClient, user: str) -> None:
        self.client = client
        self.user = user

    def __call__(self, text: str = "", blocks: list[dict[str, Any]] | None = None, **_: Any) -> None:
        self.client.chat_postMessage(channel=self.user, text=text, blocks=blocks)


def ack_home_button(ack: Ack) -> None:
    ack()


def _pressed(act: Act) -> Callable[..., None]:
    """The lazy listener of a Home button: the person may use studiobot, `act` runs, their Home is refreshed."""

    def pressed(client: WebClient, body: dict[str, Any], context: BoltContext) -> None:
        user = body["user"]["id"]
        value = str(body["actions"][0].get("value") or "")
        respond = cast(Respond, DirectMessage(client, user))
        _acting(respond=respond, client=client, context=context, user=user, value=value, act=act)
        from bot.home_refresh import HomeTabs  # loads boto3: after the ack only

        HomeTabs(client, context["services"]).refresh(user)

    pressed.__name__ = pressed.__qualname__ = f"home_{act.__name__}"  # in the log
    return pressed


@polite
def _acting(
    respond: Respond, client: WebClient, context: BoltContext, user: str, value: str, act: Act
) -> None:
    refusal = home_refusal(user, context["settings"])
    if refusal:
        raise PermissionDenied(refusal)
    act(respond, client, context["services"], user, value)


def cancel(respond: Respond, client: WebClient, services: Services, user: str, job_id: str) -> None:
    cancel_job(respond, services, user, job_id)


def retry(respond: Respond, client: WebClient, services: Services, user: str, job_id: str) -> None:
    retry_job(respond, client, services, user, "", job_id)


def movie(respond: Respond, client: WebClient, services: Services, user: str, job_id: str) -> None:
    """`/render movie JOB`, as if typed in the job's own channel by whoever submitted it (or an admin)."""
    job = services.jobs.get(job_id)
    if not services.settings.access.may_manage(user, job.requested_by):
        raise PermissionDenied(f"Only the submitter of `{job_id}` or an admin can make its movie.")
    text = f"movie {job_id}"
    command = {"text": text, "user_id": user, "channel_id": job.channel}
    if answer := RENDER.immediate_answer(command, services.settings):
        respond_with(respond, cast(Message, answer))
        return
    caller = Caller(user, job.channel, text)
    post_reply(RENDER.run(services, split_words(text), caller), respond, client, services, caller)


def _workstation(action: str, argument: str = "") -> Act:
    def change(respond: Respond, client: WebClient, services: Services, user: str, name: str) -> None:
        text, blocks = run_workstations(services, WorkstationsCommand(action, name, argument), user)
        respond(text=text, blocks=blocks)

    change.__name__ = f"workstation_{action}"
    return change


cancel_pressed = _pressed(cancel)
retry_pressed = _pressed(retry)
movie_pressed = _pressed(movie)
start_pressed = _pressed(_workstation("start"))
stop_pressed = _pressed(_workstation("stop"))
extend_pressed = _pressed(_workstation("extend", "2h"))
