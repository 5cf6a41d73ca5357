"""What Slack limits, met: 429s waited out per Web API method (a `Retry-After` on `chat.update` holds up only
`chat.update` calls, this one and any other thread's, until the wait is over), and table blocks a workspace refuses
answered with code blocks (`Answering`)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.webhook import WebhookResponse

from bot.messages import Blocks
from bot.messages.tables import Tabled, has_table

logger = logging.getLogger(__name__)


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


# ---- table blocks and charts in answers ----------------------------------------------------------------------------


class TableRefusals(Protocol):
    """Which workspaces' Slack refused a table block, remembered across invocations (`bot.table_refusals`)."""

    def refused(self, team: str) -> bool: ...
    def remember(self, team: str) -> None: ...


PROCESSING_WAITS_S = (0.0, 0.25, 0.5, 1.0, 2.0)  # between `files.info` asks while Slack processes an upload


def _said_invalid_blocks(response: Any) -> bool:
    """Whether a `response_url` answer is Slack refusing the blocks (HTTP 400 `invalid_blocks`, as webhooks say it)."""
    if not isinstance(response, WebhookResponse):  # a test's respond, or none
        return False
    return response.status_code != 200 and "invalid_blocks" in (response.body or "")


class Answering(Respond):
    """`respond` for one command in one workspace: a message with a table block goes as a table unless the workspace
    refused one before, and as its code blocks (once remembered) when Slack refuses it now; a message's chart is
    uploaded (shared nowhere) and shown as an image block of that file, so an ephemeral answer stays private."""

    def __init__(
        self, respond: Respond, client: WebClient | None, refusals: Callable[[], TableRefusals], team: str
    ) -> None:
        super().__init__(
            response_url=getattr(respond, "response_url", None),
            proxy=getattr(respond, "proxy", None),
            ssl=getattr(respond, "ssl", None),
        )
        self.inner = respond
        self.sleep: Callable[[float], None] = time.sleep
        self.client = client
        self.refusals = refusals
        self.team = team

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Post as the command's own `respond` does."""
        return self.inner(*args, **kwargs)

    def answer(self, message: tuple[str, Blocks | None], **extra: Any) -> None:
        """Send `message` ephemeral to whoever asked: as a table, or as code blocks where tables are refused."""
        text, blocks = message
        if not isinstance(message, Tabled):
            self(text=text, blocks=blocks, response_type="ephemeral", **extra)
            return
        picture = self._picture(message)
        if has_table(blocks) and self.team and self.refusals().refused(self.team):
            text, blocks = message.fallback
        sent = self._send(text, blocks, picture, extra)
        if not _said_invalid_blocks(sent):
            return
        # Refused: the table, or the chart's image (a file Slack is still processing)? Without the image first.
        if picture and not _said_invalid_blocks(self._send(text, blocks, [], extra)):
            return
        if not has_table(blocks):
            return
        logger.warning("Slack refused a table block in workspace %s: code blocks from now on", self.team)
        if self.team:  # real Slack always names the workspace
            self.refusals().remember(self.team)
        if _said_invalid_blocks(self._send(*message.fallback, picture, extra)) and picture:
            self._send(*message.fallback, [], extra)

    def _send(
        self, text: str, blocks: Blocks | None, picture: Blocks, extra: dict[str, Any]
    ) -> WebhookResponse:
        """Post the blocks, the picture before any table (Slack shows a table last whatever its place)."""
        shown = [block for block in blocks or [] if block.get("type") != "table"] + picture
        shown += [block for block in blocks or [] if block.get("type") == "table"]
        return self(text=text, blocks=shown, response_type="ephemeral", **extra)

    def _picture(self, message: Tabled) -> Blocks:
        """The message's chart drawn, uploaded, and as an image block once Slack has processed the file; none when
        there is none, it failed, or Slack is still processing it after a few seconds."""
        if message.chart is None or self.client is None:
            return []
        try:
            uploaded = self.client.files_upload_v2(
                content=message.chart(), filename="chart.png", title=message.chart_title or "chart"
            )
            file_id = uploaded["files"][0]["id"] if uploaded.get("files") else uploaded["file"]["id"]
            ready = self._processed(file_id)
        except Exception as error:  # a chart is a nicety: the answer goes without it
            logger.warning("The chart was not uploaded (%s): answering without it", type(error).__name__)
            return []
        if not ready:
            logger.warning("Slack was still processing the chart %s: answering without it", file_id)
            return []
        alt = message.chart_title or "A chart of the numbers above"
        return [{"type": "image", "slack_file": {"id": file_id}, "alt_text": alt[:2000]}]

    def _processed(self, file_id: str) -> bool:
        """Wait (a few seconds at most) until Slack has processed an upload: an image block of a file it is still
        processing is `invalid_blocks`, and `files.info` gives the file's `mimetype` only once it is done."""
        assert self.client is not None
        for wait_s in PROCESSING_WAITS_S:
            self.sleep(wait_s)
            if self.client.files_info(file=file_id)["file"].get("mimetype"):
                return True
        return False
