"""The local bot server (`local/embedded/slack_http.py`) under a burst: Slack's requests arrive together, none is reset."""

from __future__ import annotations

import http.client
import json
import threading
from concurrent.futures import ThreadPoolExecutor

from local.embedded.slack_http import PATH, BotServer
from testing.slack import signed_headers, slash_command_body
from tests.functional.conftest import SECRET, Bot

BURST = 50


def test_a_burst_of_50_concurrent_signed_requests_gets_50_answers(bot: Bot) -> None:
    # GIVEN the bot served over HTTP on 127.0.0.1, as `studiobot up` serves it
    server = BotServer(bot.app, port=0).start()
    host, port = server.server.server_address[:2]
    everyone_ready = threading.Barrier(BURST)

    def ask(index: int) -> tuple[int, str]:
        body = slash_command_body("help", trigger_id=f"burst-{index}")
        connection = http.client.HTTPConnection(str(host), port, timeout=30)
        everyone_ready.wait()  # all 50 connect at once, as a burst from Slack does
        try:
            connection.request("POST", PATH, body=body.encode(), headers=signed_headers(body, SECRET))
            response = connection.getresponse()
            return response.status, json.loads(response.read())["text"]
        finally:
            connection.close()

    try:
        # WHEN 50 signed slash commands arrive at the same moment
        with ThreadPoolExecutor(max_workers=BURST) as pool:
            answers = list(pool.map(ask, range(BURST)))  # a reset connection raises here
    finally:
        server.stop()

    # THEN every one is answered, none reset or refused
    assert [status for status, _ in answers] == [200] * BURST
    assert all("/render SCENE FRAMES" in text for _, text in answers)


def _post(server: BotServer, body: bytes, headers: dict[str, str]) -> int:
    host, port = server.server.server_address[:2]
    connection = http.client.HTTPConnection(str(host), port, timeout=10)
    try:
        connection.putrequest("POST", PATH)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        return connection.getresponse().status
    finally:
        connection.close()


def test_what_slack_never_sends_is_refused_with_a_4xx_not_a_500_or_a_dropped_connection(bot: Bot) -> None:
    server = BotServer(bot.app, port=0, signing_secret=SECRET).start()
    try:
        signed = signed_headers("{bad", SECRET, content_type="application/json")
        unsigned = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": "abc"}
        answers = {
            "unsigned, unreadable": _post(server, b"{bad", {**unsigned, "Content-Length": "4"}),
            "signed, unreadable": _post(server, b"{bad", {**signed, "Content-Length": "4"}),
            "not UTF-8": _post(server, b"\xff\xfe", {**signed, "Content-Length": "2"}),
            "length not a number": _post(server, b"", {**signed, "Content-Length": "²"}),
            "over 10 MB": _post(server, b"", {**signed, "Content-Length": str(11 * 1024 * 1024)}),
        }
        body = slash_command_body("help")
        still = _post(
            server, body.encode(), {**signed_headers(body, SECRET), "Content-Length": str(len(body))}
        )
    finally:
        server.stop()
    assert answers == {
        "unsigned, unreadable": 401,
        "signed, unreadable": 400,
        "not UTF-8": 401,
        "length not a number": 400,
        "over 10 MB": 413,
    }
    assert still == 200
