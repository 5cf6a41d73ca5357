"""Keep-alive state machine tasks (`start_due`, `stop_started`, `report`): Lambda entry points, JSON in and out."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from backend.workstations.keepalive import KeepAlive, StopResult
from entry import wiring


def keepalive() -> KeepAlive:
    """The keep-alive of this container, from the composition root."""
    return wiring.from_env().keepalive


def start_due(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Start the stopped workstations whose lease ends within a day."""
    return asdict(keepalive().start_due())


def stop_started(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Stop those the keep-alive started, unless someone is connected."""
    return asdict(keepalive().stop_started(event.get("start", {}).get("started", [])))


def report(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Tell the ops channel what the keep-alive did (and what failed)."""
    stop = event.get("stop")
    error = event.get("error") or {}
    message = f"{error.get('Error', '')}: {error.get('Cause', '')}".strip(": ") if error else ""
    result = keepalive().report(
        event.get("start", {}).get("started", []), StopResult(**stop) if stop else None, message
    )
    return result.to_dict()
