"""The renders' sweep (each minute, from a schedule): a job nobody submitted in time expires, once; whatever a job's
outbox still holds past its grace (a failed publish, a crash between a transition and its publish) is published;
and the render function's priority lanes are switched to what they hold (`backend.render.lanes`)."""

from __future__ import annotations

from typing import Any

from backend.render.gpu_waits import tell_untaken
from entry import wiring
from entry.wiring import Services


def sweep(services: Services) -> dict[str, Any]:
    """Expire what waited too long, publish what was left pending, switch the lanes; what each did, for the log."""
    expired = [job.job_id for job in services.lifecycle.expire_waiting()]
    published = [event.to_dict() for event in services.outbox.sweep()]
    untaken = tell_untaken(services.roster, services.jobs, services.events, services.clock())
    done: dict[str, Any] = {
        "expired": expired,
        "published": [(item["type"], item.get("job_id")) for item in published],
        "gpu_untaken": untaken,
    }
    if (scheduler := services.lanes.scheduler) is not None:  # on AWS: the render function's lanes
        done["lanes_switched"] = scheduler.balance()
    return done


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The scheduled sweep, with this container's services."""
    return sweep(wiring.from_env())
