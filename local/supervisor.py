"""The embedded local stack in one process tree: moto as AWS, render/DLQ worker processes, a terminal notifier."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

import boto3

from backend.config import (
    ENV_BOT_PORT,
    ENV_KEEPALIVE_AT,
    ENV_KEEPALIVE_TZ,
    ENV_KEEPALIVE_WAIT,
    ENV_LOCAL_HOME,
    ENV_LOCAL_RETRY_DELAY,
    ENV_LOCAL_VISIBILITY_TIMEOUT,
    ENV_RENDER_CONCURRENCY,
    ENV_SWEEP_INTERVAL,
    ENV_WORK_DIR,
    Settings,
    slack_credentials,
)
from backend.events import JobCompleted, parse_event
from backend.wiring import Services
from bot.messages import message_text
from bot.messages.render_completion import failure_lines
from local.stack import REPO_ROOT, StackInfo, deploy, start_moto_server, use_local_aws


def home() -> Path:
    """Where the local stack keeps its state file and log (`STUDIOBOT_HOME`, default `./.studiobot`)."""
    return Path(os.environ.get(ENV_LOCAL_HOME, Path.cwd() / ".studiobot"))


def state_path() -> Path:
    return home() / "stack.json"


def read_state() -> dict[str, Any] | None:
    """The running stack's state, or None when no stack is up."""
    path = state_path()
    if not path.exists():
        return None
    state: dict[str, Any] = json.loads(path.read_text())
    try:
        os.kill(int(state["pid"]), 0)
    except (ProcessLookupError, PermissionError):
        path.unlink(missing_ok=True)  # left behind by a stack that was killed
        return None
    return state


class Supervisor:
    """Starts everything, restarts a worker that dies (as Lambda starts a new container), stops it all cleanly."""

    def __init__(
        self,
        workers: int,
        out: TextIO,
        visibility_timeout_s: int = 120,
        retry_delay_s: int = 2,
        port: int = 0,
    ) -> None:
        self.worker_count = workers
        self.out = out
        self.visibility_timeout_s = visibility_timeout_s
        self.retry_delay_s = retry_delay_s
        self.port = port
        self.stopping = threading.Event()
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.lock = threading.Lock()

    def say(self, text: str) -> None:
        self.out.write(f"{time.strftime('%H:%M:%S')} {text}\n")
        self.out.flush()

    def start(self) -> StackInfo:
        self.server = start_moto_server(self.port)
        use_local_aws(self.server.endpoint)
        self.info = deploy(self.server.endpoint)
        self.env = {
            **os.environ,
            **self.info.environ(),
            ENV_LOCAL_VISIBILITY_TIMEOUT: str(self.visibility_timeout_s),
            ENV_LOCAL_RETRY_DELAY: str(self.retry_delay_s),
            ENV_WORK_DIR: str(home().resolve() / "work"),  # scenes and frames of this stack only
            # Estimates' ETA: here the farm is this many worker processes, not a hundred Lambdas.
            ENV_RENDER_CONCURRENCY: os.environ.get(ENV_RENDER_CONCURRENCY, str(self.worker_count)),
            "PYTHONUNBUFFERED": "1",
        }
        for index in range(self.worker_count):
            self._spawn(f"render-{index + 1}", "render")
        self._spawn("dlq", "dlq")
        self.settings = Settings.from_env(self.env)
        self.services = Services(self.settings)
        self._start_slack()
        self._start_schedules()
        threading.Thread(target=self._notify_loop, name="notifier", daemon=True).start()
        threading.Thread(target=self._watch_loop, name="watcher", daemon=True).start()
        self._write_state()
        self.say(
            f"local AWS (moto) at {self.info.endpoint}; {self.worker_count} render worker(s) + DLQ worker"
        )
        return self.info

    def _start_schedules(self) -> None:
        """The expiry sweep every 5 minutes and the keep-alive daily, as the AWS schedules would run them."""
        from local.schedule import daily, every

        sweeper, keep, fanout = self.services.workstations, self.services.keepalive, self.services.fanout
        wait_s = float(os.environ.get(ENV_KEEPALIVE_WAIT, "1200"))

        def keepalive_run() -> None:
            started = keep.start_due()
            if not self.stopping.wait(wait_s):
                keep.report(started.started, keep.stop_started(started.started))

        def failed(error: Exception) -> None:
            self.say(f"schedule: {type(error).__name__}: {error}")

        interval = float(os.environ.get(ENV_SWEEP_INTERVAL, "300"))
        at, timezone = os.environ.get(ENV_KEEPALIVE_AT, "04:00"), os.environ.get(ENV_KEEPALIVE_TZ, "UTC")
        threading.Thread(
            target=every, args=(interval, sweeper.sweep, self.stopping, failed), daemon=True
        ).start()
        threading.Thread(
            target=every,
            args=(interval, fanout.expire_waiting, self.stopping, failed),
            daemon=True,
        ).start()
        threading.Thread(
            target=daily, args=(at, timezone, keepalive_run, self.stopping, failed), daemon=True
        ).start()
        self.say(
            f"schedules: expiry sweeps (sessions, unsubmitted renders) every {interval:g} s, "
            f"keep-alive daily at {at} {timezone}"
        )

    def _start_slack(self) -> None:
        """With Slack credentials in the environment, serve the bot and post to Slack like the AWS stack does."""
        credentials = slack_credentials()
        self.slack_notifier = None
        self.bot_server = None
        if not credentials.bot_token:
            self.say("Slack: no SLACK_BOT_TOKEN, so channel messages are printed here only")
            return
        from bot.app import build_app, web_client
        from bot.notifier import SlackNotifier
        from local.slack_http import BotServer

        services = self.services
        app = build_app(self.settings, credentials, services=services)
        self.slack_notifier = SlackNotifier(web_client(self.settings, credentials.bot_token), services)
        if credentials.signing_secret:
            port = int(os.environ.get(ENV_BOT_PORT, "3000"))
            self.bot_server = BotServer(app, port).start()
            self.say(f"Slack: the bot answers at {self.bot_server.url}")
        if credentials.app_token:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            SocketModeHandler(app, credentials.app_token).connect()
            self.say("Slack: connected with Socket Mode")

    def _spawn(self, name: str, kind: str) -> None:
        # Blender's own output (a line per Cycles tile) is kept in `<home>/<worker>.log`, as CloudWatch keeps it
        # on AWS, not in the stack log; a failed frame's reason carries its last lines there too.
        output = (home() / f"{name}.log").open("ab") if kind == "render" else None
        process = subprocess.Popen(
            [sys.executable, "-m", "local.worker", kind],
            env=self.env,
            cwd=REPO_ROOT,
            stdout=output,
            stderr=output,
        )
        if output is not None:
            output.close()  # the child has its own copy of the descriptor
        with self.lock:
            self.children[name] = process

    def _write_state(self) -> None:
        with self.lock:
            workers = {name: process.pid for name, process in self.children.items()}
        state = {"pid": os.getpid(), "stack": asdict(self.info), "workers": workers, "ready": True}
        path = state_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_text(json.dumps(state, indent=2))
        partial.replace(path)

    def _watch_loop(self) -> None:
        while not self.stopping.wait(0.5):
            with self.lock:
                dead = [(name, p) for name, p in self.children.items() if p.poll() is not None]
            for name, process in dead:
                if self.stopping.is_set():
                    return
                self.say(
                    f"worker {name} (pid {process.pid}) exited with {process.returncode}; starting another"
                )
                self._spawn(name, "dlq" if name == "dlq" else "render")
            if dead:
                self._write_state()

    def _notify_loop(self) -> None:
        sqs = boto3.client("sqs")
        while not self.stopping.is_set():
            try:
                response = sqs.receive_message(
                    QueueUrl=self.info.notifications_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
                )
            except Exception as error:  # the server is going away during shutdown
                if not self.stopping.is_set():
                    self.say(f"notifier: {error}")
                continue
            for message in response.get("Messages", []):
                event = parse_event(message["Body"])
                text = message_text(event)
                if text and isinstance(event, JobCompleted) and event.failed:
                    text += failure_lines(self.services.announcer.failures(event.job_id))
                if text:
                    self.say(f"#renders ▸ {text}")
                if self.slack_notifier is not None:
                    try:
                        self.slack_notifier.handle(event)
                    except (
                        Exception
                    ) as error:  # left on the queue: delivered again after its visibility timeout
                        self.say(f"Slack notifier: {type(error).__name__}: {error}")
                        continue
                sqs.delete_message(
                    QueueUrl=self.info.notifications_queue_url, ReceiptHandle=message["ReceiptHandle"]
                )

    def stop(self) -> None:
        self.stopping.set()
        with self.lock:
            children = list(self.children.values())
        for process in children:
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 30
        for process in children:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.bot_server is not None:
            self.bot_server.stop()
        self.server.stop()
        state_path().unlink(missing_ok=True)
        self.say("local stack stopped")


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m local.supervisor")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--visibility-timeout", type=int, default=120)
    parser.add_argument("--retry-delay", type=int, default=2)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    supervisor = Supervisor(args.workers, sys.stdout, args.visibility_timeout, args.retry_delay, args.port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    supervisor.start()
    while not stop.wait(0.5):
        pass
    supervisor.stop()


if __name__ == "__main__":
    main()
