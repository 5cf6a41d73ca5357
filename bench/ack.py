"""Ack benchmark: the bot Lambda's cold import against bare Bolt, its memory, and `/render` ack latency."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from slack_bolt import App
from slack_bolt.lazy_listener import LazyListenerRunner
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from backend.config import Settings, SlackCredentials
from bot.app import build_app
from entry.wiring import Services

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 7
REQUESTS = 1_000
WARMUP = 20
BOT_TOKEN, SIGNING_SECRET = "xoxb-bench", "bench-secret"
# Port 9 (discard) on loopback: importing entry.slack makes no call, so nothing needs to answer there.
LOOPBACK_API = "http://127.0.0.1:9/api/"
# What the loopback Web API answers to any method: an `auth.test` reply, in case Bolt asks for one.
AUTH_TEST = {
    "ok": True,
    "url": "https://studio.slack.com/",
    "team": "studio",
    "team_id": "T0001",
    "user": "studiobot",
    "user_id": "U0BOT",
    "bot_id": "B0001",
}
CHILD_ENV = {
    "SLACK_BOT_TOKEN": BOT_TOKEN,
    "SLACK_SIGNING_SECRET": SIGNING_SECRET,
    "SLACK_API_URL": LOOPBACK_API,
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
}
# Run with `python -c CHILD bot|baseline`: only json, sys and time are loaded before the clock starts.
CHILD = """
import json, sys, time
started = time.perf_counter()
if sys.argv[1] == "bot":
    import entry.slack
else:
    import slack_bolt
    from slack_bolt.adapter.aws_lambda import SlackRequestHandler
seconds = time.perf_counter() - started
# VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so a child of a big parent would report the parent's.
hwm = [line for line in open("/proc/self/status") if line.startswith("VmHWM:")][0]
rss_mb = int(hwm.split()[1]) / 1024
print(json.dumps({"import_s": seconds, "rss_mb": rss_mb, "boto3": "boto3" in sys.modules,
                  "bpy": "bpy" in sys.modules, "modules": len(sys.modules)}))
"""
# What artists type, cycled: renders, status/list, help, and mistakes the ack itself answers.
TEXTS = (
    "shot010/shot.blend 1-240 --res 1920x1080 --samples 64",
    "shot020/shot.blend 1-120 --engine BLENDER_EEVEE --chunk 10",
    "shot030/shot.blend 1,5,10-20 --format JPEG",
    "shot010/shot.blend 1-240x2 --dry-run",
    "status",
    "status r1a2b3c4d5",
    "list",
    "help",
    "shot.blend 1-240x0",
    "shot.blend 1-240 --res 4k",
    "cancel",
)


class NoLazyRunner(LazyListenerRunner):
    """Lazy listeners started by the acks are counted and dropped, so the bench times the ack alone."""

    def __init__(self) -> None:
        self.started = 0

    def start(self, function: Callable[..., None], request: BoltRequest) -> None:
        """Count the lazy listener instead of running it."""
        self.started += 1

    def run(self, function: Callable[..., None], request: BoltRequest) -> None:
        """Do nothing."""


def import_once(which: str, env: dict[str, str]) -> dict[str, Any]:
    """Import `entry.slack` or the bare Bolt baseline in a fresh interpreter; return the child's JSON."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, which],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"`import` in a fresh interpreter ({which}) failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def imports() -> dict[str, Any]:
    """Median cold import of both sides over ROUNDS alternating runs (one untimed run each first)."""
    runs: dict[str, list[dict[str, Any]]] = {"bot": [], "baseline": []}
    with tempfile.TemporaryDirectory(prefix="studiobot-bench-pyc-") as pycache:
        # Bytecode for both sides in a private cache (PYTHONDONTWRITEBYTECODE would leave ours uncompiled
        # while site-packages has its .pyc), written by the untimed first runs; the source tree is untouched.
        env = {**os.environ, **CHILD_ENV, "PYTHONPYCACHEPREFIX": pycache}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        for which in runs:
            import_once(which, env)
        for round_ in range(ROUNDS):
            for which in ("bot", "baseline") if round_ % 2 == 0 else ("baseline", "bot"):
                runs[which].append(import_once(which, env))
    bot_s = statistics.median(run["import_s"] for run in runs["bot"])
    baseline_s = statistics.median(run["import_s"] for run in runs["baseline"])
    last = runs["bot"][-1]
    return {
        "import_ratio": round(bot_s / baseline_s, 3),
        "import_ratio_target": 1.3,
        "bot_import_s": round(bot_s, 4),
        "baseline_import_s": round(baseline_s, 4),
        "bot_import_runs_s": [round(run["import_s"], 4) for run in runs["bot"]],
        "baseline_import_runs_s": [round(run["import_s"], 4) for run in runs["baseline"]],
        "rss_mb": round(statistics.median(run["rss_mb"] for run in runs["bot"]), 1),
        "rss_mb_target": 120,
        "baseline_rss_mb": round(statistics.median(run["rss_mb"] for run in runs["baseline"]), 1),
        "bot_modules": last["modules"],
        "baseline_modules": runs["baseline"][-1]["modules"],
        "bytecode": "cached for both sides in a private PYTHONPYCACHEPREFIX, written by an untimed run of each",
        "boto3_imported": last["boto3"],
        "bpy_imported": last["bpy"],
    }


def signed(body: str, now: int) -> BoltRequest:
    """A request as Slack delivers it: HMAC-SHA256 of `v0:{ts}:{body}` with the signing secret."""
    digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{now}:{body}".encode(), hashlib.sha256).hexdigest()
    headers: dict[str, str | Sequence[str]] = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(now),
        "X-Slack-Signature": f"v0={digest}",
    }
    return BoltRequest(body=body, headers=headers)


def slash_body(text: str, index: int) -> str:
    """A `/render` slash command's form body, with the fields Slack sends."""
    fields = {
        "token": "bench-verification-token",
        "team_id": "T0001",
        "team_domain": "studio",
        "channel_id": "C0RENDERS",
        "channel_name": "renders",
        "user_id": "U0ARTIST",
        "user_name": "artist",
        "command": "/render",
        "text": text,
        "api_app_id": "A0STUDIOBOT",
        "is_enterprise_install": "false",
        "response_url": f"http://127.0.0.1:9/response/{index}",
        "trigger_id": f"{index}.738474920.8088930838d88f008e0",
    }
    return urlencode(fields)


@contextmanager
def web_api() -> Iterator[tuple[str, Counter[str]]]:
    """A loopback Web API answering every method like `auth.test`; yields its base URL and calls per method."""
    calls: Counter[str] = Counter()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            calls[self.path.rsplit("/", 1)[-1]] += 1
            answer = json.dumps(AUTH_TEST).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/", calls
    finally:
        server.shutdown()
        server.server_close()


def bench_app(api_url: str) -> tuple[App, NoLazyRunner]:
    """The bot's app with a loopback Web API client and lazy listeners that do nothing."""
    settings = Settings(slack_api_url=api_url)
    client = WebClient(token=BOT_TOKEN, base_url=api_url)
    app = build_app(
        settings, SlackCredentials(BOT_TOKEN, SIGNING_SECRET), client=client, services=Services(settings)
    )
    runner = NoLazyRunner()
    app.listener_runner.lazy_listener_runner = runner
    return app, runner


def acks() -> dict[str, Any]:
    """Dispatch REQUESTS signed `/render` commands in-process; time each dispatch (it returns the ack)."""
    all_ms: list[float] = []
    with web_api() as (api_url, calls):
        app, runner = bench_app(api_url)
        for index in range(WARMUP + REQUESTS):
            # Signed outside the clock, just before dispatch, so the 5-minute window never runs out.
            request = signed(slash_body(TEXTS[index % len(TEXTS)], index), int(time.time()))
            started = time.perf_counter()
            response = app.dispatch(request)
            all_ms.append((time.perf_counter() - started) * 1000)
            if response.status != 200:
                raise RuntimeError(f"Ack {index} answered {response.status}: {response.body[:200]!r}")
    times_ms = all_ms[WARMUP:]
    return {
        "count": len(times_ms),
        "ack_p50_ms": round(statistics.median(times_ms), 3),
        "ack_p99_ms": round(statistics.quantiles(times_ms, n=100)[98], 3),
        "ack_p99_ms_target": 20,
        "ack_max_ms": round(max(times_ms), 3),
        "ack_first_ms": round(all_ms[0], 3),  # first-use costs on the ack path (late imports, any auth.test)
        "warmup_requests": WARMUP,
        "texts": list(TEXTS),
        "lazy_listeners_started": runner.started,
        "web_api_calls": dict(calls),
        "lazy": "every request is dispatched; the lazy listeners the acks start go to a runner whose "
        "start() and run() do nothing, so no AWS work is timed (the lazy request copy is)",
    }


def run() -> dict[str, Any]:
    """Time the imports in fresh interpreters, then the acks in this one; return ack.json."""
    return {**imports(), **acks()}
