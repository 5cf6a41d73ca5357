"""A deadline the worker keeps: a frame that will not finish before the render invocation's limit is stopped by the
worker itself, with a margin to spare, and recorded as failed — never left for Lambda to kill.

Blender cannot interrupt a running render from Python, but it releases the GIL while it renders, so a timer thread
runs beside it. When the timer fires, the frame is recorded first (failed for good, with the seconds it ran and
what was billed, so no SQS delivery renders it again) and the channel is told; then the process exits. Exiting loses
the warm Blender of that one container — the rare slow frame pays for it, every normal frame pays nothing (a timer
per frame). A redelivery of the task finds the frame recorded and acknowledges it without rendering.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

MARGIN_S = 30.0  # left before the limit to record, tell the channel and exit
EXIT_STOPPED = 75  # the process's exit status after stopping a frame (EX_TEMPFAIL)


class Watchdog:
    """Guards one frame at a time; `overran(frame, ran_s)` records and tells, then the process exits."""

    def __init__(
        self,
        overran: Callable[[int, float], None],
        exit: Callable[[int], None] = os._exit,
        margin_s: float = MARGIN_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.overran = overran
        self.exit = exit
        self.margin_s = margin_s
        self.clock = clock
        self.fired = False  # this process stopped a frame (only tests see it: the process is gone otherwise)
        self._lock = threading.Lock()
        self._done = False

    @contextmanager
    def frame(self, frame: int, remaining_s: float | None) -> Iterator[None]:
        """Render one frame under the watch: it may run until `margin_s` before the invocation's end
        (`remaining_s`, None: no limit)."""
        if remaining_s is None:
            yield
            return
        started = self.clock()
        self._done = False
        timer = threading.Timer(max(0.0, remaining_s - self.margin_s), self._fire, args=(frame, started))
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            with self._lock:  # a render that ends as the timer fires: whichever takes the lock first decides
                self._done = True
            timer.cancel()

    def _fire(self, frame: int, started: float) -> None:
        with self._lock:
            if self._done:
                return
            self.fired = True
            try:
                self.overran(frame, self.clock() - started)
            finally:
                self.exit(EXIT_STOPPED)
