"""Expiry sweep Lambda (every 5 minutes from a schedule): warn before sessions lapse, act when they do."""

from __future__ import annotations

from dataclasses import asdict
from functools import cache
from typing import Any

from backend.aws.sns import SnsPublisher
from backend.config import Settings
from backend.workstations.ec2 import Ec2Workstations
from backend.workstations.leases import DynamoLeases
from backend.workstations.service import WorkstationService


@cache
def service() -> WorkstationService:
    settings = Settings.from_env()
    return WorkstationService(
        Ec2Workstations(),
        DynamoLeases(settings.table_name),
        SnsPublisher(settings.events_topic_arn),
        settings.access,
    )


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return asdict(service().sweep())
