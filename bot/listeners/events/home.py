"""`app_home_opened`: the person's Home tab published for them (`bot.home_refresh`), with the rules of the commands
for who may use the bot (the user list: a Home is no channel, so the channel list does not apply)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from backend.config import Settings
from bot.messages import section
from bot.messages.text import sentence
from bot.polite import logger


def ack_event(ack: Ack) -> None:
    ack()


def home_refusal(user: str, settings: Settings) -> str | None:
    """Why `user` may not use studiobot from its Home, or None: the commands' user list (no channel here)."""
    return replace(settings.access, allowed_channels=frozenset()).refusal(user, "")


def home_opened(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """Publish the Home of whoever opened it (the Messages tab is left alone)."""
    if event.get("tab", "home") != "home" or not event.get("user"):
        return
    user = str(event["user"])
    refusal = home_refusal(user, context["settings"])
    if refusal:
        try:
            view = {"type": "home", "blocks": [section(sentence(refusal))]}
            client.views_publish(user_id=user, view=view)
        except Exception as error:
            logger.warning("refusal not published on the Home", error=repr(error))
        return
    from bot.home_refresh import HomeTabs  # loads boto3: after the ack only

    HomeTabs(client, context["services"]).opened(user)
