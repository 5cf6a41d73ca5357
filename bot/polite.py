"""Listener failures become a polite ephemeral answer; the details go to the log, never to Slack."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

from backend.errors import StudiobotError
from bot.messages import error_message

logger = Logger(service="studiobot-bot")
SORRY = (
    "Something went wrong on our side (the details are in our log). Check with `/render list` or "
    "`/workstations status` before trying again in a minute; if it keeps happening, tell #studio-ops."
)


def polite(listener: Callable[..., None]) -> Callable[..., None]:
    """Answer our own errors with their sentence and anything else with an apology (logged with its traceback)."""

    @functools.wraps(listener)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        respond = kwargs.get("respond")
        try:
            listener(*args, **kwargs)
        except StudiobotError as error:
            _answer(respond, str(error))
        except Exception:
            logger.exception("listener failed", listener=listener.__name__)
            _answer(respond, SORRY)

    return wrapper


def _answer(respond: Any, text: str) -> None:
    if respond is None:
        return
    message, blocks = error_message(text)
    try:
        respond(text=message, blocks=blocks, response_type="ephemeral", replace_original=False)
    except Exception:
        logger.exception("could not answer the user")
