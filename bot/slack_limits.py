"""Slack's 429s waited out per Web API method: a `Retry-After` on `chat.update` holds up only `chat.update` calls
(this one and any other thread's, until the wait is over), never `chat.postMessage` or anything else."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState


class MethodLimits(RetryHandler):
    """Retries a 429 after its `Retry-After`, and makes every call to the same method wait that long too."""

    def __init__(
        self,
        max_retry_count: int = 5,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.clock = clock
        self.sleep = sleep
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def __deepcopy__(self, memo: dict[int, Any]) -> MethodLimits:
        """One set of limits per token: Bolt's per-request copies of the client share it."""
        return self

    def blocked_for(self, method: str) -> float:
        """Seconds a call to `method` must still wait (0 when it may go now)."""
        with self._lock:
            return max(0.0, self._until.get(method, 0.0) - self.clock())

    def wait(self, method: str) -> None:
        """Wait until Slack takes calls to `method` again (at once when it was not rate limited)."""
        while (left := self.blocked_for(method)) > 0:
            self.sleep(left)

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code == 429

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        """Note the method's wait for every caller, then wait it out in this caller's thread only."""
        method = request.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        with self._lock:
            until = self.clock() + _retry_after_s(response)
            self._until[method] = max(until, self._until.get(method, 0.0))
        state.next_attempt_requested = True
        self.wait(method)
        state.increment_current_attempt()


def _retry_after_s(response: HttpResponse | None) -> float:
    headers = {name.lower(): values for name, values in (response.headers if response else {}).items()}
    try:
        return float(headers["retry-after"][0])
    except (KeyError, IndexError, ValueError):
        return 1.0  # Slack always sends one; if not, a second


class LimitedWebClient(WebClient):
    """A WebClient whose calls first wait out their method's 429 (`MethodLimits`), whichever thread got it."""

    def __init__(self, *args: Any, limits: MethodLimits, **kwargs: Any) -> None:
        kwargs["retry_handlers"] = [limits]
        super().__init__(*args, **kwargs)
        self.limits = limits

    def api_call(self, api_method: str, *args: Any, **kwargs: Any) -> Any:
        """Wait while `api_method` is rate limited, then call it."""
        self.limits.wait(api_method)
        return super().api_call(api_method, *args, **kwargs)
