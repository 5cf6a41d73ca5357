"""The bot over HTTP on 127.0.0.1 (`POST /slack/events`), as Slack reaches it through API Gateway on AWS."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from slack_bolt import App
from slack_bolt.request import BoltRequest

PATH = "/slack/events"  # Bolt's default path


class BotServer:
    """A loopback HTTP server that hands each request to the Bolt app (Bolt's own dev server binds 0.0.0.0)."""

    def __init__(self, app: App, port: int = 3000) -> None:
        handler = _handler_for(app)
        self.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.server.daemon_threads = True
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


def _handler_for(app: App) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            if url.path != PATH:
                self._reply(404, b"not found", "text/plain")
                return
            body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
            headers: dict[str, str | Sequence[str]] = {
                name.lower(): value for name, value in self.headers.items()
            }
            response = app.dispatch(BoltRequest(body=body, query=url.query, headers=headers))
            content_type = response.headers.get("content-type", ["text/plain"])[0]
            self._reply(response.status, response.body.encode(), content_type)

        def _reply(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # request lines could carry nothing secret, but they are noise in the stack log

    return Handler
