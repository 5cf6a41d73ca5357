"""The bot over HTTP on 127.0.0.1 (`POST /slack/events`), as Slack reaches it through API Gateway on AWS, and the
download links it posts (`GET /links/{token}`), answered by the links function's own code."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

from backend.render.links import ROUTE, Links
from bot.signatures import refusal, unsigned
from entry.links import answer

PATH = "/slack/events"  # Bolt's default path
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's limit in front of the bot on AWS
IDLE_S = 30.0  # a connection that sends nothing for this long is closed (and its thread ends)
MAX_THREADS = 64  # connections served at once; more are told 503 (Slack retries), never a thread each
_BUSY_BODY = b"busy: try again in a second"
BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nRetry-After: 1\r\nConnection: close\r\n"
    b"Content-Length: %d\r\n\r\n%s" % (len(_BUSY_BODY), _BUSY_BODY)
)


class _BurstServer(ThreadingHTTPServer):
    """A thread per connection, at most `MAX_THREADS`, and room for a burst of connections the accepting thread has
    not reached yet.

    `socketserver`'s backlog of 5 makes the kernel reset the rest of a burst (Slack sends one when a channel
    uses the bot at once; on AWS API Gateway absorbs it). The kernel caps the number at `net.core.somaxconn`.
    Without a cap, 5,000 idle sockets made 5,000 threads beside moto.
    """

    request_queue_size = 128
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self.slots = threading.BoundedSemaphore(MAX_THREADS)

    def process_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        if not self.slots.acquire(blocking=False):
            _turn_away(request)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)  # type: ignore[arg-type]
        except BaseException:  # no thread started: its slot is free again
            self.slots.release()
            raise

    def process_request_thread(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        try:
            super().process_request_thread(request, client_address)  # type: ignore[arg-type]
        finally:
            self.slots.release()


def _turn_away(request: socket.socket) -> None:
    """Answer 503 from the accepting thread, never waiting on the client (its buffer takes a few bytes at once)."""
    try:
        request.settimeout(0.1)
        request.sendall(BUSY)
    except OSError:
        pass  # gone already


class BotServer:
    """A loopback HTTP server that hands each request to the Bolt app (Bolt's own dev server binds 0.0.0.0)."""

    def __init__(
        self, app: App, port: int = 3000, signing_secret: str | None = None, links: Links | None = None
    ) -> None:
        """`signing_secret`: refuse what Slack did not sign before Bolt parses it, as the Lambda handler does;
        `links`: answer the download links the notifier posts."""
        handler = _handler_for(app, signing_secret, links)
        self.server = _BurstServer(("127.0.0.1", port), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="bot-http", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}{PATH}"

    def start(self) -> BotServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler_for(app: App, signing_secret: str | None, links: Links | None) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = IDLE_S  # on every read: an idle keep-alive or a stalled body ends the connection

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            token = path[len(ROUTE) :]
            if links is None or not path.startswith(ROUTE) or not token or "/" in token:
                self._reply(404, b"not found", "text/plain")
                return
            status, headers, body = answer(links, token)
            self._reply(status, body.encode(), headers.pop("Content-Type", "text/plain"), headers)

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            if url.path != PATH:
                self._reply(404, b"not found", "text/plain")
                return
            length = self.headers.get("Content-Length", "0")
            if not (length.isascii() and length.isdigit()):
                self._refuse(400, b"Content-Length must be a number of bytes")
                return
            if len(length) > len(str(MAX_BODY_BYTES)) or int(length) > MAX_BODY_BYTES:
                self._refuse(413, b"a body of at most 10 MB")
                return
            raw = self.rfile.read(int(length))
            headers: dict[str, str | Sequence[str]] = {
                name.lower(): value for name, value in self.headers.items()
            }
            response = self._answer(raw, url.query, headers)
            content_type = response.headers.get("content-type", ["text/plain"])[0]
            self._reply(response.status, response.body.encode(), content_type)

        def _answer(self, raw: bytes, query: str, headers: dict[str, str | Sequence[str]]) -> BoltResponse:
            """Bolt's answer; 401 for what Slack did not sign, 400 for a signed body Bolt cannot read."""
            try:
                body = raw.decode()
            except UnicodeDecodeError:
                return unsigned()  # Slack sends UTF-8: this is not a body it signed
            if signing_secret is not None:
                refused = refusal(signing_secret, body, headers, time.time())
                if refused is not None:
                    return refused
            try:
                request = BoltRequest(body=body, query=query, headers=headers)
            except Exception:  # whatever Bolt's parser raises (`bot.signatures.refusal` says the same)
                return BoltResponse(status=400, body={"error": "unreadable request"})
            return app.dispatch(request)

        def _refuse(self, status: int, reason: bytes) -> None:
            self.close_connection = True  # the body, if any, is left unread
            self._reply(status, reason, "text/plain")

        def _reply(
            self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # request lines could carry nothing secret, but they are noise in the stack log

    return Handler
