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

from backend.config import (
    ENV_BOT_PORT,
    ENV_LOCAL_HOME,
    ENV_LOCAL_RETRY_DELAY,
    ENV_LOCAL_VISIBILITY_TIMEOUT,
    ENV_RENDER_CONCURRENCY,
    ENV_WORK_DIR,
    Settings,
    slack_credentials,
)
from backend.errors import StudiobotError
from backend.render.blenders import DEFAULT_BLENDER, parse_versions
from entry.wiring import Services
from local.blender_envs import ensure
from local.embedded import unsaved
from local.embedded.blenders import worker_command, worker_names
from local.embedded.carry import carry_over, made_by_template
from local.embedded.links import links_env
from local.embedded.notices import StackNotifier, notify_loop
from local.embedded.persistence import Saved, StateFolder, StateUnreadable
from local.embedded.schedule import start_schedules
from local.embedded.stack import (
    REPO_ROOT,
    RESOURCES_TEMPLATE,
    StackInfo,
    deploy,
    start_moto_server,
    use_local_aws,
)


def home() -> Path:
    """Where the local stack keeps its state file and log (`STUDIOBOT_HOME`, default `./.studiobot`)."""
    return Path(os.environ.get(ENV_LOCAL_HOME, Path.cwd() / ".studiobot"))


def state_path() -> Path:
    return home() / "stack.json"


def state_folder() -> Path:
    """Where the stack's AWS state is kept between runs (`local.embedded.persistence`); `down --forget` deletes it."""
    return home() / "state"


def read_state() -> dict[str, Any] | None:
    """The running stack's state, or None when no stack is up."""
    path = state_path()
    if not path.exists():
        return None
    try:
        state: dict[str, Any] = json.loads(path.read_text())
        int(state["pid"])
    except (ValueError, KeyError, TypeError, OSError):
        raise StudiobotError(
            f"The local stack's state file `{path}` cannot be read (cut short, or edited by hand): if no "
            f"`studiobot up` is running, delete it and start the stack again with `studiobot up`."
        ) from None
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
        state_dir: Path | None = None,
        save_every_s: float = 2.0,
        nodes: int = 0,
        node_class: str = "gpu",
        blenders: tuple[str, ...] = (DEFAULT_BLENDER,),
    ) -> None:
        """`state_dir`: keep the stack's state there across runs (`studiobot up` does); None: start empty, keep
        nothing (benchmarks and tests that build a stack of their own). `blenders`: `workers` render workers each,
        each version in its own environment."""
        self.worker_count = workers
        self.blenders = blenders
        self.versions: dict[str, str] = {}  # a render worker → the Blender it renders with
        self.nodes, self.node_class = (
            nodes,
            node_class,
        )  # render nodes on a class's queue (`--nodes 1 --class gpu`)
        self.kinds: dict[str, str] = {}
        self.out = out
        self.visibility_timeout_s = visibility_timeout_s
        self.retry_delay_s = retry_delay_s
        self.port = port
        self.state = StateFolder(state_dir) if state_dir is not None else None
        self.save_every_s = save_every_s
        self.save_error = ""
        self.saved_at = (
            time.time()
        )  # the state as of then is kept; a failed snapshot says "not saved since" it
        self.unsaved_before = ""  # the last run's failed snapshots, said by `studiobot up`
        self.stopping = threading.Event()
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.lock = threading.Lock()

    def say(self, text: str) -> None:
        self.out.write(f"{time.strftime('%H:%M:%S')} {text}\n")
        self.out.flush()

    def start(self) -> StackInfo:
        self.server = start_moto_server(self.port)
        use_local_aws(self.server.endpoint)
        before = unsaved.read(self.state.path) if self.state is not None else None
        self.unsaved_before = before.sentence() if before is not None else ""
        saved = self._saved_state()
        if saved is not None:
            self.saved_at = saved.saved_at
        for blender in self.blenders:  # made on first use, with a progress bar (in the log here)
            ensure(blender)
        # today's template: URLs, subscription, indexes made afresh; another Blender's lanes beside
        self.info = deploy(self.server.endpoint, blenders=self.blenders)
        self.kept = self._carry_over(saved)
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
        # The links the notifier posts: signed with the key kept in the home folder, answered by the bot server.
        self.env.update(links_env(home(), self.env))
        for name, blender in worker_names(self.blenders, self.worker_count):
            self._spawn(name, "render", blender)
        self._spawn("dlq", "dlq")
        self._spawn("dlq-gpu", "dlq-gpu")
        for index in range(self.nodes):
            self._spawn(f"node-{index + 1}", "node")
        self.settings = Settings.from_env(self.env)
        self.services = Services(self.settings)
        for index in range(self.nodes):  # coming: a `--on gpu` render right after `up` is not refused
            self.services.roster.seen(self.node_class, f"node-{index + 1}")
        self._start_slack()
        start_schedules(self.services, self.stopping, self.say)
        notifier = StackNotifier(self.services, self.slack_notifier, self.say)
        self.notifier_thread = threading.Thread(
            target=notify_loop,
            args=(self.info.notifications_queue_url, notifier, self.stopping, self.say),
            name="notifier",
            daemon=True,
        )
        self.notifier_thread.start()
        threading.Thread(target=self._watch_loop, name="watcher", daemon=True).start()
        if self.state is not None:
            threading.Thread(target=self._save_loop, name="state", daemon=True).start()
        self._write_state()
        nodes = f" + {self.nodes} {self.node_class} node(s)" if self.nodes else ""
        versions = f" for each of Blender {', '.join(self.blenders)}" if len(self.blenders) > 1 else ""
        self.say(
            f"local AWS (moto) at {self.info.endpoint}; {self.worker_count} render worker(s){versions}{nodes} + DLQ "
            "workers"
        )
        return self.info

    def _saved_state(self) -> Saved | None:
        """The last run's snapshot; one this moto cannot read is moved aside (kept) and the stack starts empty."""
        if self.state is None:
            return None
        try:
            return self.state.load()
        except StateUnreadable as error:
            aside = self.state.set_aside()
            self.say(f"state: could not read the saved state ({error}); moved it to {aside}, starting empty")
            return None

    def _carry_over(self, saved: Saved | None) -> str:
        """Put the last run's jobs, scenes, frames and queued tasks into the stack just deployed; say what came."""
        if saved is None:
            return ""
        with self.server.gate.held():
            carried = carry_over(saved.backends, made_by_template(RESOURCES_TEMPLATE.read_text()))
        kept = f"kept from {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(saved.saved_at))}: {carried.sentence()}"
        self.say(f"state: {kept}")
        return kept

    def _save_loop(self) -> None:
        """A snapshot every few seconds while anything changes: a crash (a killed supervisor) loses only those.
        A big state (10,000 queued frames pause moto ≈ 0.3 s) is saved less often, to keep the pauses ≤ 5 %."""
        assert self.state is not None
        while not self.stopping.wait(max(self.save_every_s, 20 * self.state.paused_s)):
            self._save()

    def _save(self) -> None:
        if self.state is None:
            return
        try:
            written = self.state.save(self.server.gate)
        except Exception as error:  # said once here, by every command while it lasts; tried again next turn
            said = f"state: could not save it in {self.state.path}: {type(error).__name__}: {error}"
            if said != self.save_error:
                self.say(said)
            self.save_error = said
            try:
                unsaved.record(self.state.path, self.saved_at, error)
            except OSError as cause:
                self.say(f"state: could not record that either: {cause}")
        else:
            self.save_error = ""
            if written:
                self.saved_at = time.time()
                unsaved.clear(self.state.path)

    def _start_slack(self) -> None:
        """With Slack credentials in the environment, serve the bot and post to Slack like the AWS stack does."""
        credentials = slack_credentials()
        self.slack_notifier = None
        self.bot_server = None
        if not credentials.bot_token:
            self.say("Slack: no SLACK_BOT_TOKEN, so channel messages are printed here only")
            return
        from bot.app import build_app, web_client
        from bot.identity import unpinned
        from bot.notifier import SlackNotifier
        from local.embedded.slack_http import BotServer

        services = self.services
        app = build_app(self.settings, credentials, services=services)
        if warning := unpinned(self.settings.slack_team_id, self.settings.slack_app_id):
            self.say(warning)
        self.slack_notifier = SlackNotifier(web_client(self.settings, credentials.bot_token), services)
        port = int(os.environ.get(ENV_BOT_PORT, "3000"))
        links = f"download links under {services.links.settings.base_url}/links/"
        if credentials.signing_secret:
            self.bot_server = BotServer(app, port, credentials.signing_secret, links=services.links).start()
            self.say(f"Slack: the bot answers at {self.bot_server.url}; {links}")
        elif credentials.app_token:  # Socket Mode: served for the links alone (a POST is refused: no secret)
            self.bot_server = BotServer(app, port, "", links=services.links).start()
            self.say(f"Slack: {links}")
        if credentials.app_token:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            SocketModeHandler(app, credentials.app_token).connect()
            self.say("Slack: connected with Socket Mode")

    def _spawn(self, name: str, kind: str, blender: str = "") -> None:
        # Blender's own output (a line per Cycles tile) is kept in `<home>/<worker>.log`, as CloudWatch keeps it
        # on AWS, not in the stack log; a failed frame's reason carries its last lines there too.
        home().mkdir(parents=True, exist_ok=True)  # a stack that keeps no state may not have made it yet
        output = (home() / f"{name}.log").open("ab") if kind in ("render", "node") else None
        command = worker_command(kind, blender or self.versions.get(name, ""))
        env = self.env
        if kind == "node":  # the product's node, on this stack's queue; no instance metadata off EC2
            command += ["--class", self.node_class, "--idle-exit", "0", "--name", name]
            env = {"AWS_EC2_METADATA_DISABLED": "true", **self.env}
        process = subprocess.Popen(
            command,
            env=env,
            cwd=REPO_ROOT,
            stdout=output,
            stderr=output,
        )
        if output is not None:
            output.close()  # the child has its own copy of the descriptor
        with self.lock:
            self.children[name] = process
            self.kinds[name] = kind
            self.versions[name] = blender or self.versions.get(name, "")

    def _write_state(self) -> None:
        with self.lock:
            workers = {name: process.pid for name, process in self.children.items()}
        state = {
            "pid": os.getpid(),
            "stack": asdict(self.info),
            "workers": workers,
            "ready": True,
            "state": str(self.state.path) if self.state is not None else "",
            "kept": self.kept,
            "unsaved": self.unsaved_before,
        }
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
                self._spawn(name, self.kinds[name])
            if dead:
                self._write_state()

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
        self.notifier_thread.join(timeout=15)  # its last batch told and deleted before the final snapshot
        self.server.gate.close()  # nothing changes after the final snapshot: the next `up` carries on from it
        self._save()
        self.server.stop()
        state_path().unlink(missing_ok=True)
        self.say("local stack stopped")


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m local.embedded.supervisor")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--visibility-timeout", type=int, default=120)
    parser.add_argument("--retry-delay", type=int, default=2)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--nodes", type=int, default=0, help="render nodes on the --class queue")
    parser.add_argument("--class", dest="node_class", default="gpu")
    parser.add_argument("--blender", default=DEFAULT_BLENDER, help="the Blenders to render with: 4.5,5.0")
    parser.add_argument(
        "--save-every", type=float, default=2.0, help="seconds between snapshots of the state"
    )
    args = parser.parse_args()
    supervisor = Supervisor(
        args.workers,
        sys.stdout,
        args.visibility_timeout,
        args.retry_delay,
        args.port,
        state_dir=state_folder(),
        save_every_s=args.save_every,
        nodes=args.nodes,
        node_class=args.node_class,
        blenders=parse_versions(args.blender),
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    supervisor.start()
    while not stop.wait(0.5):
        pass
    supervisor.stop()


if __name__ == "__main__":
    main()
