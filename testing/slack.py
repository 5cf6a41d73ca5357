"""A loopback fake of the Slack Web API for the real `slack_sdk` clients, plus Slack request-signing helpers.

Point `WebClient(base_url=fake.base_url)` at it; every request is recorded as a `Call` for assertions. Ids used in
tests follow `<kind>0<NAME>` (`U0ARTIST`, `C0RENDERS`) so the fake can give them readable names (`artist`, `renders`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

from testing.slack_blocks import POSTING, blocks_refusal, processed

TEAM = {"team": "studio", "team_id": "T0001", "user": "studiobot", "user_id": "U0BOT", "bot_id": "B0001"}
APP_ID = "A0STUDIOBOT"  # the app's `api_app_id`, in every request Slack sends it
# The bot token's scopes (slack/manifest.yml's), sent as Slack does in every Web API answer's `x-oauth-scopes`.
BOT_SCOPES = ("commands", "chat:write", "files:write", "files:read", "channels:read", "groups:read")
FIRST_TS_MICROS = 1_700_000_000_000_000
TS_STEP_MICROS = 100

Response = tuple[int, dict[str, Any], dict[str, str]]  # status, JSON answer, extra headers


@dataclass
class Call:
    """One request the fake received; `headers` names are lower-cased."""

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    at: float
    body: bytes = b""


@dataclass
class _Injected:
    """Answers queued for the next calls to one method by `rate_limit` or `fail`."""

    remaining: int
    error: str
    retry_after: int | None = None


@dataclass
class _Counters:
    messages: int = 0
    files: int = 0


class FakeSlack:
    """A Slack Web API on 127.0.0.1 that records every call and answers like Slack does."""

    def __init__(self) -> None:
        """Prepare the fake; `start()` opens the port."""
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._injected: dict[str, list[_Injected]] = {}
        self._counters = _Counters()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.hosted: dict[str, tuple[str, bytes]] = {}  # file id → (name, content), served to bot tokens
        self.outage_status = 0  # while set, every Web API call is answered with this HTTP status (`outage`)
        self.scopes: list[str] = list(BOT_SCOPES)  # the token's scopes (`x-oauth-scopes`)
        self.left: set[str] = set()  # channels the bot is not a member of (`conversations.info` → is_member)
        self.tables_refused = False  # while set, a message with a table block is refused (`invalid_blocks`)
        self.processing_polls = (
            1  # `files.info` calls an uploaded file is still being processed for (no mimetype)
        )
        self.homes: dict[str, dict[str, Any]] = {}  # user id → the Home tab view last published for them

    # ---- lifecycle -------------------------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        """Listen on a free loopback port in a daemon thread."""
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        # A short poll keeps stop() quick: shutdown() waits for the serve loop's next poll.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01}, name="fake-slack", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the port."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeSlack:
        """Start the fake for a `with` block."""
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop the fake at the end of a `with` block."""
        self.stop()

    # ---- addresses -------------------------------------------------------------------------------------------

    @property
    def origin(self) -> str:
        """`http://127.0.0.1:PORT` of the running fake."""
        if self._server is None:
            raise RuntimeError("FakeSlack is not running: call start() or use it in a `with` block.")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        """The Web API root to give `WebClient(base_url=...)`."""
        return f"{self.origin}/api/"

    def response_url(self, name: str = "cmd") -> str:
        """A `response_url` whose POSTs are recorded as `response_url` calls with `args["_name"] == name`."""
        return f"{self.origin}/response/{name}"

    # ---- assertions ------------------------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        """The calls received so far for one method, oldest first."""
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Wait until at least `count` calls to `method` arrived and return them all."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.calls_to(method)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                with self._lock:
                    seen = [call.method for call in self.calls]
                raise AssertionError(
                    f"Expected {count} call(s) to {method} within {timeout:g} s, got {len(found)}; calls seen: {seen}"
                )
            time.sleep(0.01)

    # ---- scripting -------------------------------------------------------------------------------------------

    def rate_limit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next `times` calls to `method` with HTTP 429 and `Retry-After: retry_after`."""
        self._inject(method, _Injected(remaining=times, error="ratelimited", retry_after=retry_after))

    def fail(self, method: str, error: str, times: int = 1) -> None:
        """Answer the next `times` calls to `method` with `{"ok": false, "error": error}` and HTTP 200."""
        self._inject(method, _Injected(remaining=times, error=error))

    def outage(self, status: int = 503) -> None:
        """Answer every Web API call with HTTP `status` (recorded, `_outage` set) until `outage_over()`."""
        self.outage_status = status

    def outage_over(self) -> None:
        """Answer Web API calls normally again."""
        self.outage_status = 0

    def host_file(self, file_id: str, name: str, content: bytes) -> dict[str, Any]:
        """Share a file in the fake workspace; returns it as a message's `files` entry shows it."""
        self.hosted[file_id] = (name, content)
        return _file_object(self, file_id)

    def reset(self) -> None:
        """Forget the calls received so far."""
        with self._lock:
            self.calls.clear()

    def _inject(self, method: str, injected: _Injected) -> None:
        if injected.remaining < 1:
            return
        with self._lock:
            self._injected.setdefault(method, []).append(injected)

    def _take_injected(self, method: str) -> _Injected | None:
        with self._lock:
            queue = self._injected.get(method)
            if not queue:
                return None
            injected = queue[0]
            injected.remaining -= 1
            if injected.remaining == 0:
                queue.pop(0)
            return injected

    # ---- request handling (called from server threads) -------------------------------------------------------

    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def _handle_api(
        self, method: str, args: dict[str, Any], headers: dict[str, str], body: bytes
    ) -> Response:
        call = Call(method=method, args=args, headers=headers, at=time.monotonic(), body=body)
        if self.outage_status:
            call.args["_outage"] = True
            self._record(call)
            return self.outage_status, {"ok": False, "error": "service_unavailable"}, {}
        injected = self._take_injected(method)
        if injected is not None and injected.retry_after is not None:
            call.args["_ratelimited"] = True
            self._record(call)
            return 429, {"ok": False, "error": injected.error}, {"Retry-After": str(injected.retry_after)}
        self._record(call)
        if injected is not None:
            return 200, {"ok": False, "error": injected.error}, {}
        if method in POSTING and (refused := blocks_refusal(self, args.get("blocks"))):
            return 200, {"ok": False, "error": refused}, {}
        answer = _ANSWERS.get(method)
        scopes = {"x-oauth-scopes": ",".join(self.scopes)}
        return 200, {"ok": True, **(answer(self, args) if answer else {})}, scopes

    def _next_ts(self) -> str:
        with self._lock:
            self._counters.messages += 1
            micros = FIRST_TS_MICROS + self._counters.messages * TS_STEP_MICROS
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _next_file_id(self) -> str:
        with self._lock:
            self._counters.files += 1
            return f"F{self._counters.files:06d}"


# ---- canned answers per Web API method ---------------------------------------------------------------------


def _display_name(slack_id: str) -> str:
    """`U0ARTIST` → `artist`; ids not in the `<kind>0<NAME>` form are just lower-cased."""
    lowered = slack_id.lower()
    return lowered[2:] if len(lowered) > 2 and lowered[1] == "0" else lowered


def _auth_test(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    return {"url": "https://studio.slack.com/", **TEAM}


def _post_message(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    ts = fake._next_ts()
    message: dict[str, Any] = {
        "type": "message",
        "user": TEAM["user_id"],
        "bot_id": TEAM["bot_id"],
        "text": args.get("text", ""),
        "blocks": args.get("blocks", []),
        "ts": ts,
    }
    if args.get("thread_ts"):
        message["thread_ts"] = args["thread_ts"]
    return {"channel": args.get("channel", ""), "ts": ts, "message": message}


def _update(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    return {"channel": args.get("channel", ""), "ts": args.get("ts", ""), "text": args.get("text", "")}


def _post_ephemeral(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    return {"message_ts": fake._next_ts()}


def _permalink(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    channel, ts = args.get("channel", ""), str(args.get("message_ts", ""))
    return {
        "channel": channel,
        "permalink": f"https://studio.slack.com/archives/{channel}/p{ts.replace('.', '')}",
    }


def _upload_url(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    file_id = fake._next_file_id()
    return {"upload_url": f"{fake.origin}/upload/{file_id}", "file_id": file_id}


def _complete_upload(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    files = args.get("files", [])
    if not isinstance(files, list):
        files = []
    return {
        "files": [{"id": f.get("id", ""), "title": f.get("title", "")} for f in files if isinstance(f, dict)]
    }


def _view(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    view = args.get("view", {})
    echoed = view if isinstance(view, dict) else {}
    return {"view": {**echoed, "id": args.get("view_id") or "V0001"}}


HOME_BLOCKS = 100  # a Home tab view's blocks, at most (Block Kit's reference)


def _publish_view(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    """`views.publish` as Slack checks it: a user, a `home` view of at most 100 valid blocks with unique ids."""
    view = args.get("view")
    if not str(args.get("user_id", "")).startswith(("U", "W")):
        return {"ok": False, "error": "user_not_found"}
    if not isinstance(view, dict):
        return {
            "ok": False,
            "error": "invalid_arguments",
            "response_metadata": {"messages": ["view: not a JSON object"]},
        }
    problems = _home_problems(view)
    if problems:
        return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": problems}}
    fake.homes[str(args["user_id"])] = view
    return {"view": {**view, "id": "V0HOME"}}


def _home_problems(view: dict[str, Any]) -> list[str]:
    """What Slack would refuse in a Home tab view, as its `response_metadata.messages` say it."""
    from slack_sdk.errors import SlackObjectFormationError
    from slack_sdk.models.blocks import Block

    blocks = view.get("blocks")
    if view.get("type") != "home" or not isinstance(blocks, list):
        return ["[ERROR] a Home tab view is of type `home` with a list of blocks"]
    problems = [f"[ERROR] must be no more than {HOME_BLOCKS} items [json-pointer:/view/blocks]"]
    problems = problems if len(blocks) > HOME_BLOCKS else []
    ids = [block.get("block_id") for block in blocks if isinstance(block, dict) and block.get("block_id")]
    if len(ids) != len(set(ids)):
        problems.append("[ERROR] block_id must be unique [json-pointer:/view/blocks]")
    for index, block in enumerate(blocks):
        try:
            parsed = Block.parse(block)
            if parsed is None:
                raise SlackObjectFormationError(f"unknown block {block!r:.80}")
            parsed.validate_json()
        except (SlackObjectFormationError, TypeError, AttributeError) as error:
            problems.append(f"[ERROR] {error} [json-pointer:/view/blocks/{index}]")
    return problems


def _users_info(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    user_id = str(args.get("user", ""))
    return {"user": {"id": user_id, "name": _display_name(user_id), "tz": "UTC", "is_admin": False}}


def _conversations_info(fake: FakeSlack, args: dict[str, Any]) -> dict[str, Any]:
    channel_id = str(args.get("channel", ""))
    member = channel_id not in fake.left
    return {"channel": {"id": channel_id, "name": _display_name(channel_id), "is_member": member}}


_ANSWERS: dict[str, Callable[[FakeSlack, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": _auth_test,
    "chat.postMessage": _post_message,
    "chat.update": _update,
    "chat.postEphemeral": _post_ephemeral,
    "chat.getPermalink": _permalink,
    "files.getUploadURLExternal": _upload_url,
    "files.completeUploadExternal": _complete_upload,
    "files.info": lambda fake, args: {
        "file": _file_object(fake, str(args.get("file", ""))) | processed(fake, args)
    },
    "views.open": _view,
    "views.update": _view,
    "views.push": _view,
    "views.publish": _publish_view,
    "users.info": _users_info,
    "conversations.info": _conversations_info,
}


# ---- HTTP plumbing -----------------------------------------------------------------------------------------


def _maybe_json(value: str) -> Any:
    """Form values holding JSON lists or objects (`blocks`, `files`, `view`) come back as Python objects."""
    if value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _parse_args(query: str, content_type: str, body: bytes) -> dict[str, Any]:
    """Query string, form, JSON or multipart fields merged into one dict (the body wins)."""
    args: dict[str, Any] = {
        key: _maybe_json(value) for key, value in parse_qsl(query, keep_blank_values=True)
    }
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "application/json" and body:
        parsed = json.loads(body)
        if isinstance(parsed, dict):
            args.update(parsed)
    elif media_type == "application/x-www-form-urlencoded":
        form = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        args.update({key: _maybe_json(value) for key, value in form})
    elif media_type == "multipart/form-data":
        message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                args[name] = payload if part.get_filename() else _maybe_json(payload.decode("utf-8"))
    return args


def _file_object(fake: FakeSlack, file_id: str) -> dict[str, Any]:
    name, content = fake.hosted.get(file_id, ("", b""))
    return {
        "id": file_id,
        "name": name,
        "size": len(content),
        "filetype": name.rsplit(".", 1)[-1] if "." in name else "",
        "url_private_download": f"{fake.origin}/files-pri/{file_id}/download/{name}",
    }


def _handler_for(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self._dispatch()

        def do_GET(self) -> None:
            self._dispatch()

        def log_message(self, format: str, *args: Any) -> None:
            """Stay quiet: tests read calls, not access logs."""

        def _dispatch(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {name.lower(): value for name, value in self.headers.items()}
            url = urlsplit(self.path)
            content_type = headers.get("content-type", "")
            if url.path.startswith("/api/"):
                args = _parse_args(url.query, content_type, body)
                status, answer, extra = fake._handle_api(url.path.removeprefix("/api/"), args, headers, body)
                self._send(status, json.dumps(answer).encode(), "application/json; charset=utf-8", extra)
            elif url.path.startswith("/upload/"):
                file_id = url.path.removeprefix("/upload/")
                fake._record(
                    Call(
                        method="upload",
                        args={"file_id": file_id},
                        headers=headers,
                        at=time.monotonic(),
                        body=body,
                    )
                )
                self._send(200, f"OK - {len(body)}".encode(), "text/plain; charset=utf-8")
            elif url.path.startswith("/files-pri/"):
                file_id = url.path.split("/")[2]
                if file_id not in fake.hosted or not headers.get("authorization", "").startswith(
                    "Bearer xoxb-"
                ):
                    self._send(404, b"not found", "text/plain")
                else:
                    self._send(200, fake.hosted[file_id][1], "application/octet-stream")
            elif url.path.startswith("/response/"):
                args = _parse_args(url.query, content_type or "application/json", body)
                args["_name"] = url.path.removeprefix("/response/")
                fake._record(
                    Call(method="response_url", args=args, headers=headers, at=time.monotonic(), body=body)
                )
                if refused := blocks_refusal(fake, args.get("blocks")):  # as webhooks answer: 400, the code
                    self._send(400, refused.encode(), "text/plain; charset=utf-8")
                else:
                    self._send(200, b'{"ok": true}', "application/json; charset=utf-8")
            else:
                answer = {"ok": False, "error": f"FakeSlack has no route for {url.path}"}
                self._send(404, json.dumps(answer).encode(), "application/json; charset=utf-8")

        def _send(
            self, status: int, payload: bytes, content_type: str, extra: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

    return Handler


# ---- signing helpers ---------------------------------------------------------------------------------------


def signed_headers(
    body: str,
    signing_secret: str,
    timestamp: int | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> dict[str, str]:
    """Headers Slack would send with `body`, signed with `signing_secret` (now, unless `timestamp` is given)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    basestring = f"v0:{stamp}:{body}".encode()
    digest = hmac.new(signing_secret.encode(), basestring, hashlib.sha256).hexdigest()
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest}",
    }


def slash_command_body(
    text: str,
    *,
    command: str = "/render",
    user_id: str = "U0ARTIST",
    channel_id: str = "C0RENDERS",
    response_url: str = "",
    trigger_id: str = "13345224609.738474920.8088930838d88f008e0",
    team_id: str = "T0001",
    user_name: str = "artist",
    api_app_id: str = APP_ID,
) -> str:
    """A slash command's form-encoded body, field for field as Slack sends it."""
    return urlencode(
        {
            "token": "gIkuvaNzQIHg97ATvDxqgjtO",
            "team_id": team_id,
            "team_domain": TEAM["team"],
            "channel_id": channel_id,
            "channel_name": _display_name(channel_id),
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": api_app_id,
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def interaction_body(payload: dict[str, Any]) -> str:
    """A form-encoded `payload=<json>` body, as Slack sends block actions, shortcuts and view submissions (with
    our app's `api_app_id` unless the payload names one)."""
    return urlencode({"payload": json.dumps({"api_app_id": APP_ID, **payload})})


def dispatch_signed(app: App, body: str, secret: str, timestamp: int | None = None) -> BoltResponse:
    """Dispatch `body` in-process as Slack would deliver it, signed with `secret`."""
    # BoltRequest's header type is an invariant dict of `str | Sequence[str]`: widen ours for mypy.
    headers: dict[str, str | Sequence[str]] = {**signed_headers(body, secret, timestamp=timestamp)}
    return app.dispatch(BoltRequest(body=body, headers=headers))
