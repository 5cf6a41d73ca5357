"""Keep-alive state machine tasks (`start_due`, `stop_started`, `report`): Lambda entry points, JSON in and out."""

from __future__ import annotations

from dataclasses import asdict
from functools import cache
from typing import Any

from backend.aws.sns import SnsPublisher
from backend.config import Settings
from backend.workstations.ec2 import Ec2Workstations
from backend.workstations.keepalive import KeepAlive, StopResult
from backend.workstations.leases import DynamoLeases


@cache
def keepalive() -> KeepAlive:
    settings = Settings.from_env()
    return KeepAlive(
        Ec2Workstations(), DynamoLeases(settings.table_name), SnsPublisher(settings.events_topic_arn)
    )


def start_due(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return asdict(keepalive().start_due())


def stop_started(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return asdict(keepalive().stop_started(event.get("start", {}).get("started", [])))


def report(event: dict[str, Any], context: Any) -> dict[str, Any]:
    stop = event.get("stop")
    error = event.get("error") or {}
    message = f"{error.get('Error', '')}: {error.get('Cause', '')}".strip(": ") if error else ""
    result = keepalive().report(
        event.get("start", {}).get("started", []), StopResult(**stop) if stop else None, message
    )
    return result.to_dict()
