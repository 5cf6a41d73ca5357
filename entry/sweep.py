"""Expiry sweep Lambda (every 5 minutes from a schedule): warn before sessions lapse, act when they do."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from entry import wiring


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Warn sessions about to lapse, stop or renew those that have; what was done."""
    return asdict(wiring.from_env().workstations.sweep())
