"""`Gate`, in front of moto's server for the local stack's persistence (`local.embedded.persistence`): requests share the
backends, a snapshot has them to itself while it pickles them, so a snapshot never holds half a request."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

# Actions that read without changing anything (a receive changes visibility and counts, which a restore resets).
READ_ACTIONS = ("Get", "Describe", "List", "Query", "Scan", "BatchGet", "Receive")
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Gate:
    """WSGI middleware in front of moto: requests run side by side; `held()` waits for them and keeps new ones out;
    `close()` keeps them out for good."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app
        self.changed = False  # a request that may change state began since the last snapshot
        self._turn = threading.Condition()
        self._serving = 0
        self._held = False
        self._closed = False

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with self._turn:
            self._turn.wait_for(lambda: not (self._held or self._closed))
            self._serving += 1
            if _may_change(environ):
                self.changed = True
        try:
            return self.app(environ, start_response)  # moto's responses are whole once returned
        finally:
            with self._turn:
                self._serving -= 1
                self._turn.notify_all()

    @contextmanager
    def held(self, timeout_s: float = 30.0) -> Iterator[None]:
        """moto's backends to oneself: no request runs until the block ends (long polls finish first, ≤ 1 s here).

        New requests wait meanwhile, or a steady stream of long polls would never leave a gap. A request that
        called moto back over HTTP and waited for the answer would never finish then (nothing on the local stack
        does: Lambda runs no code here and no state machine runs), so after `timeout_s` the gate gives up
        (`TimeoutError`) and lets everything through again.
        """
        with self._turn:
            self._turn.wait_for(lambda: not self._held)
            self._held = True
            if not self._turn.wait_for(lambda: self._serving == 0, timeout_s):
                self._held = False
                self._turn.notify_all()
                raise TimeoutError(f"moto was still busy after {timeout_s:g} s")
        try:
            yield
        finally:
            with self._turn:
                self._held = False
                self._turn.notify_all()

    def close(self) -> None:
        """From now on no request reaches moto: those that come wait until the process ends, and their clients
        see a stack that went away, not one that changed after its last snapshot or was emptied (`stop`)."""
        with self._turn:
            self._closed = True


def _may_change(environ: dict[str, Any]) -> bool:
    if environ.get("REQUEST_METHOD") in ("GET", "HEAD", "OPTIONS"):
        return False  # S3 reads, moto's own pages
    target = str(environ.get("HTTP_X_AMZ_TARGET", ""))  # JSON protocols: `AmazonSQS.ReceiveMessage`
    return not target or not target.rpartition(".")[2].startswith(READ_ACTIONS)
