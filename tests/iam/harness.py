"""Records every AWS call made while a component's code runs and decides it under that component's role.

The component in force is a context variable, set by the entry points below (outermost wins) and carried into the
threads and thread pools they start; a call made outside any of them (a test arranging or reading state) is not
checked. Each call is decided when it is made; a test fails at its end if any was denied.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import contextvars
import functools
import importlib
import json
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.client import BaseClient

from tests.iam.policy import decide, role_statements
from tests.iam.requests import Call, Request, requests_for

ENV_COUNTS = "STUDIOBOT_IAM_COUNTS"  # where the session's counts are written (bench/iam_calls.py reads them)
# Each component, the roles whose policies must all allow its calls (the Lambda functions: infra/iam.yml; the gpu
# node: infra/batch.yml's job role and, as `studiobot node` on a studio's machine, docs/render-nodes.md's policy).
ROLES = {
    "bot": ["BotRole"],
    "notifier": ["NotifierRole"],
    "noticeRedrive": ["NoticeRedriveRole"],
    "render": ["RenderRole"],
    "node": ["GpuNodeJobRole", "OwnMachinesPolicy"],
    "renderDeadLetters": ["RenderDeadLettersRole"],
    "expireUnsubmitted": ["ExpireUnsubmittedRole"],
    "sweep": ["SweepRole"],
    "ec2Events": ["Ec2EventsRole"],
    "keepAliveStartDue": ["KeepAliveStartDueRole"],
    "keepAliveStopStarted": ["KeepAliveStopStartedRole"],
    "keepAliveReport": ["KeepAliveReportRole"],
    "budgetAlerts": ["BudgetAlertsRole"],
    "links": ["LinksRole"],
}
# Where each component's code starts: its Lambda handler (infra/serverless.yml), the node's loop, and the service
# entry the functional tests call in place of the handler (the same code the handler runs).
ENTRY_POINTS = {
    "bot": ["slack_bolt.app.app:App.dispatch"],
    "notifier": ["bot.notifier:SlackNotifier.handle", "entry.notifier:handler"],
    "noticeRedrive": ["bot.undelivered:redrive", "entry.redrive:handler"],
    "render": ["entry.render:record_handler"],
    "node": ["blender_image.node:RenderNode.run"],
    "renderDeadLetters": [
        "entry.dead_letters:handler",
        "entry.dead_letters:record_handler",
        "backend.render.dead_letters:fail_task",
    ],
    "expireUnsubmitted": ["entry.expiry:sweep", "entry.expiry:handler"],
    "sweep": [
        "entry.sweep:handler",
        "backend.workstations.service:WorkstationService.sweep",
    ],
    "ec2Events": [
        "entry.ec2_events:handler",
        "backend.workstations.ec2_events:alert_for",
    ],
    "keepAliveStartDue": [
        "backend.workstations.keepalive:KeepAlive.start_due",
        "entry.keepalive:start_due",
    ],
    "keepAliveStopStarted": [
        "backend.workstations.keepalive:KeepAlive.stop_started",
        "entry.keepalive:stop_started",
    ],
    "keepAliveReport": [
        "backend.workstations.keepalive:KeepAlive.report",
        "entry.keepalive:report",
    ],
    "budgetAlerts": ["entry.budget_alerts:handler"],
    "links": ["entry.links:handler", "entry.links:answer"],
}
SHIPPED = ("backend", "bot", "blender_image", "entry", "local")
_component: contextvars.ContextVar[str | None] = contextvars.ContextVar("iam_component", default=None)
_looking_up = contextvars.ContextVar("iam_looking_up", default=False)


@dataclass
class Ledger:
    """The calls checked and denied, this test and the whole session."""

    checked: int = 0
    denied: int = 0
    tests: int = 0  # tests that made at least one checked call
    denials: list[str] = field(default_factory=list)
    by_component: dict[str, int] = field(default_factory=dict)
    used: set[tuple[str, str]] = field(
        default_factory=set
    )  # (role, Sid) of the statements that allowed a call

    def unused(self) -> dict[str, list[str]]:
        """Per role of a component that made calls, the statements no call needed (a hint, never a failure)."""
        seen = {role for component in self.by_component for role in ROLES[component]}
        return {
            role: [
                s.get("Sid", "?")
                for s in role_statements()[role]
                if (role, s.get("Sid", "?")) not in self.used
            ]
            for role in sorted(seen)
        }

    def counts(self) -> dict[str, Any]:
        return {
            "unused_statements": self.unused(),
            "iam_checked_calls": self.checked,
            "iam_denied_calls": self.denied,
            "iam_checked_tests": self.tests,
            "by_component": self.by_component,
            "denials": self.denials[:50],
        }


SESSION = Ledger()
_test_denials: list[str] = []
_lock = threading.Lock()


@contextlib.contextmanager
def running_as(component: str) -> Iterator[None]:
    """Code inside runs as `component`, unless an outer component is already in force."""
    token = _component.set(component) if _component.get() is None else None
    try:
        yield
    finally:
        if token is not None:
            _component.reset(token)


def _as_component(component: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with running_as(component):
            return function(*args, **kwargs)

    wrapper.__iam_component__ = component  # type: ignore[attr-defined]
    return wrapper


def _render_worker_run(function: Callable[..., Any]) -> Callable[..., Any]:
    """A task of the gpu class is rendered by a node, any other by the render function."""

    @functools.wraps(function)
    def run(self: Any, task: Any, *args: Any, **kwargs: Any) -> Any:
        with running_as("node" if task.settings.render_class == "gpu" else "render"):
            return function(self, task, *args, **kwargs)

    return run


def _instance_tags(client: BaseClient) -> Callable[[list[str]], dict[str, dict[str, str]]]:
    def lookup(ids: list[str]) -> dict[str, dict[str, str]]:
        endpoint = client.meta.endpoint_url if "127.0.0.1" in client.meta.endpoint_url else None
        ec2 = boto3.client("ec2", region_name=client.meta.region_name, endpoint_url=endpoint)
        token = _looking_up.set(True)
        try:
            reservations = ec2.describe_instances(InstanceIds=ids)["Reservations"]
        except Exception:  # an unknown instance: no tags, as AWS has none to match
            return {}
        finally:
            _looking_up.reset(token)
        return {
            instance["InstanceId"]: {tag["Key"]: tag["Value"] for tag in instance.get("Tags", [])}
            for reservation in reservations
            for instance in reservation["Instances"]
        }

    return lookup


def _where() -> str:
    """The line of our code that made the call."""
    root = f"{Path(__file__).parents[2]}/"
    for frame in reversed(traceback.extract_stack()[:-3]):
        if frame.filename.startswith(root) and frame.filename[len(root) :].split("/")[0] in SHIPPED:
            return f"{frame.filename[len(root) :]}:{frame.lineno}"
    return "?"


def check(component: str, call: Call, requests: list[Request]) -> list[str]:
    """Decide each request under every role of `component`; the refusals, described."""
    refusals = []
    for role in ROLES[component]:
        statements = role_statements()[role]
        for request in requests:
            decision = decide(statements, request)
            if decision.allowed:
                SESSION.used.add((role, decision.sid))
            else:
                refusals.append(f"{role} may not {request.describe()}: {decision.why}")
    return refusals


def _record(client: BaseClient, operation_model: Any, api_params: dict[str, Any]) -> None:
    component = _component.get()
    if component is None or _looking_up.get():
        return
    model = client.meta.service_model
    call = Call(
        model.signing_name or model.endpoint_prefix,
        operation_model.name,
        dict(api_params),
        client.meta.region_name,
    )
    try:
        refusals = check(component, call, requests_for(call, _instance_tags(client)))
    except Exception as error:  # a call this harness cannot read fails its test, never the call itself
        refusals = [f"the IAM harness could not read this call: {error!r}"]
    with _lock:
        SESSION.checked += 1
        SESSION.by_component[component] = SESSION.by_component.get(component, 0) + 1
        if refusals:
            SESSION.denied += 1
            text = f"{component} ({call.service}:{call.operation} from {_where()}): " + "; ".join(refusals)
            SESSION.denials.append(text)
            _test_denials.append(text)


def _patch(target: str, wrap: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    module_name, _, path = target.partition(":")
    holder: Any = importlib.import_module(module_name)
    *owners, name = path.split(".")
    for owner in owners:
        holder = getattr(holder, owner)
    original = holder.__dict__[name] if isinstance(holder, type) else getattr(holder, name)
    if getattr(original, "__iam_component__", None) is None:
        setattr(holder, name, wrap(original))


def install() -> None:
    """Record every AWS call from now on, mark the entry points, and carry the component into new threads."""
    emit = BaseClient._emit_api_params
    if getattr(emit, "__iam_component__", None):  # installed already
        return

    def emit_and_record(self: BaseClient, api_params: Any, operation_model: Any, context: Any) -> Any:
        params = emit(self, api_params, operation_model, context)
        _record(self, operation_model, params)
        return params

    emit_and_record.__iam_component__ = "recorder"  # type: ignore[attr-defined]
    BaseClient._emit_api_params = emit_and_record  # type: ignore[method-assign]
    for component, targets in ENTRY_POINTS.items():
        for target in targets:
            _patch(target, functools.partial(_as_component, component))
    _patch("blender_image.worker:RenderWorker.run", _render_worker_run)

    submit = concurrent.futures.ThreadPoolExecutor.submit

    def submit_in_context(self: Any, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        return submit(self, contextvars.copy_context().run, fn, *args, **kwargs)

    concurrent.futures.ThreadPoolExecutor.submit = submit_in_context  # type: ignore[method-assign]
    start, bootstrap = threading.Thread.start, threading.Thread._bootstrap_inner  # type: ignore[attr-defined]

    def start_in_context(self: threading.Thread) -> None:
        self.__iam_context__ = contextvars.copy_context()  # type: ignore[attr-defined]
        start(self)

    def bootstrap_in_context(self: threading.Thread) -> None:
        context = getattr(self, "__iam_context__", None)
        return context.run(bootstrap, self) if context is not None else bootstrap(self)

    threading.Thread.start = start_in_context  # type: ignore[method-assign]
    threading.Thread._bootstrap_inner = bootstrap_in_context  # type: ignore[attr-defined]


_checked_before = 0


def begin_test() -> None:
    global _checked_before
    _test_denials.clear()
    _checked_before = SESSION.checked


def denials_of_this_test() -> list[str]:
    if SESSION.checked > _checked_before:
        SESSION.tests += 1
    found = list(_test_denials)
    _test_denials.clear()
    return found


def write_counts(path: str) -> None:
    Path(path).write_text(json.dumps(SESSION.counts(), indent=2, sort_keys=True))
