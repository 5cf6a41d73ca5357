"""Slack's signature on every HTTP request: a missing, wrong, stale or malformed one is a 401, never a 500.

Bolt's own check runs `int()` on the timestamp header, so `X-Slack-Request-Timestamp: abc` raised inside the app (a
500); and Bolt parses the body before any check, so an unsigned `{bad` body raised in the HTTP edge. `SlackSignature`
takes the place of Bolt's check inside the app; `refusal` lets an HTTP edge refuse a request before Bolt reads it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt.middleware import Middleware
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

from backend.commands import whole_number
from backend.errors import ValidationError

MAX_AGE_S = 300  # Slack's rule: a request signed more than five minutes ago may be a replay
_LATEST_TIMESTAMP = 9_999_999_999  # seconds since 1970: ten digits last until the year 2286
Headers = Mapping[str, str | Sequence[str]]


def signed_by_slack(
    signing_secret: str, body: str, timestamp: str | None, signature: str | None, now: float
) -> bool:
    """True when `signature` is Slack's for `body` at `timestamp`, signed in the last five minutes; False for
    anything malformed (`abc`, `²`, a thousand digits, a signature that is not ASCII) as for anything wrong."""
    if not signing_secret or timestamp is None or signature is None:
        return False
    try:
        signed_at = whole_number(timestamp, 0, _LATEST_TIMESTAMP, "not a timestamp")
        base = f"v0:{timestamp}:{body}".encode()
        given = signature.encode("ascii")
    except (ValidationError, UnicodeEncodeError):
        return False
    if abs(now - signed_at) > MAX_AGE_S:
        return False
    expected = "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), given)


def _first(headers: Headers, name: str) -> str | None:
    value = headers.get(name)
    if value is None or isinstance(value, str):
        return value
    return value[0] if value else None


def unsigned() -> BoltResponse:
    """The answer to a request Slack did not sign: Bolt's own 401."""
    return BoltResponse(status=401, body={"error": "invalid request"})


class SlackSignature(Middleware):
    """Bolt's request verification, in its place (`before_authorize` runs where Bolt's check would), refusing a
    malformed timestamp or signature with a 401 instead of raising."""

    def __init__(self, signing_secret: str, clock: Callable[[], float] = time.time) -> None:
        self.signing_secret = signing_secret
        self.clock = clock

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        """Pass a request Slack signed (or one from Socket Mode, which carries no signature) on; refuse the rest."""
        if req.mode == "socket_mode":
            return next()
        timestamp = _first(req.headers, "x-slack-request-timestamp")
        signature = _first(req.headers, "x-slack-signature")
        if signed_by_slack(self.signing_secret, req.raw_body, timestamp, signature, self.clock()):
            return next()
        return unsigned()


def refusal(signing_secret: str, body: str, headers: Headers, now: float) -> BoltResponse | None:
    """For an HTTP edge, before Bolt parses anything: 401 for a request Slack did not sign, 400 for a signed one
    Bolt cannot read; None when the request may go to the app. `headers` have lower-case names."""
    timestamp = _first(headers, "x-slack-request-timestamp")
    signature = _first(headers, "x-slack-signature")
    if not signed_by_slack(signing_secret, body, timestamp, signature, now):
        return unsigned()
    try:
        BoltRequest(body=body, headers=dict(headers))
    except Exception:  # whatever Bolt's parser raises: bad JSON, a payload that is no object, deep nesting
        return BoltResponse(status=400, body={"error": "unreadable request"})
    return None


def parse_body(body: str, content_type: str | None) -> dict[str, Any]:
    """Bolt's request body parser, without its bug: Bolt 1.30 reads any form body with the word `payload` anywhere
    as an interaction (`payload=…`), so `/render payload_v2.blend 1-10` — or a team named `payload` — parsed as
    nothing and went unanswered. A form body is an interaction only when it has a `payload` field."""
    if not body:
        return {}
    params: dict[str, Any] = {}
    if content_type != "application/json" and not body.startswith("{"):
        params = dict(parse_qsl(body, keep_blank_values=True))
        if "payload" not in params:
            return params
    parsed = json.loads(params["payload"] if params else body)  # raises as Bolt's does: the edges answer 400
    if not isinstance(parsed, dict):
        raise ValueError("a Slack payload is a JSON object")
    return parsed


def mend_bolt_body_parsing() -> None:
    """Use `parse_body` where Bolt builds its requests (idempotent; the one place Bolt is patched)."""
    import slack_bolt.request.request as bolt_request

    bolt_request.parse_body = parse_body  # type: ignore[assignment]
