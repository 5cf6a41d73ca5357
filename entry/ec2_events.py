"""EventBridge → Lambda (`entry.ec2_events.handler`): EC2 spot interruption warnings and state changes of
workstations become channel alerts; AWS Batch cancelling a job's GPU nodes before any started becomes a notice in
the job's thread."""

from __future__ import annotations

from typing import Any

from backend.render.gpu_nodes import nodes_not_started
from backend.workstations.ec2_events import alert_for
from entry import wiring


def handler(event: dict[str, Any], context: Any) -> None:
    """Publish the alert an EC2 event deserves (or the notice of GPU nodes Batch cancelled), if any."""
    services = wiring.from_env()
    if event.get("source") == "aws.batch":
        notice = nodes_not_started(event, services.settings.gpu_job_queue)
        if notice is not None:
            services.events.publish(notice)
        return
    alert = alert_for(event, services.ec2)
    if alert is not None:
        services.events.publish(alert)
