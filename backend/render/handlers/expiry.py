"""Expiry of unsubmitted renders (every 5 minutes from a schedule): a job nobody submitted in time expires, once."""

from __future__ import annotations

from typing import Any

from backend import wiring


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Expire the renders nobody submitted in time; the ids of those expired now."""
    return {"expired": [job.job_id for job in wiring.from_env().fanout.expire_waiting()]}
