"""Buttons on the job card."""

from __future__ import annotations

from slack_bolt import App

from bot.listeners.actions.job_buttons import (
    ack_button,
    cancel_clicked,
    outputs_clicked,
    retry_clicked,
    submit_clicked,
)
from bot.listeners.commands.workstations import extend_clicked, stop_clicked


def register(app: App) -> None:
    app.action("job_submit")(ack=ack_button, lazy=[submit_clicked])
    app.action("job_cancel")(ack=ack_button, lazy=[cancel_clicked])
    app.action("job_retry")(ack=ack_button, lazy=[retry_clicked])
    app.action("job_outputs")(ack=ack_button, lazy=[outputs_clicked])
    app.action("ws_extend")(ack=ack_button, lazy=[extend_clicked])
    app.action("ws_stop")(ack=ack_button, lazy=[stop_clicked])
