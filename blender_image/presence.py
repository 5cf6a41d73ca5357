"""A render node says it is there while it runs (`backend.render.store.roster`), so that a `--on gpu` job is
refused where no node would take it; a roster that cannot be written never stops the node."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

from aws_lambda_powertools import Logger

from backend.render.store.roster import BEAT_S

logger = Logger(service="studiobot-node")


class Roster(Protocol):
    """Where nodes say they are there (`NodeRoster`)."""

    def seen(self, render_class: str, name: str) -> None: ...
    def left(self, render_class: str, name: str) -> None: ...


@contextmanager
def present(roster: Roster, render_class: str, name: str, beat_s: float = BEAT_S) -> Iterator[None]:
    """Say the node is here now and every `beat_s` while the block runs (polling or rendering); gone after."""
    stopped = threading.Event()

    def beat() -> None:
        while True:
            _quietly(roster.seen, render_class, name)
            if stopped.wait(beat_s):
                return

    beating = threading.Thread(target=beat, name="presence", daemon=True)
    beating.start()
    try:
        yield
    finally:
        stopped.set()
        beating.join(timeout=10)
        _quietly(roster.left, render_class, name)


def _quietly(call: Callable[[str, str], None], render_class: str, name: str) -> None:
    try:
        call(render_class, name)
    except Exception as error:  # an own machine's older policy, the network a moment away: it renders anyway
        logger.warning("could not update the node roster", node=name, error=str(error))
