"""Buttons on the job card, the workstation warnings and the Home tab."""

from __future__ import annotations

from slack_bolt import App

from bot.listeners.actions.home_buttons import (
    ack_home_button,
    cancel_pressed,
    extend_pressed,
    movie_pressed,
    retry_pressed,
    start_pressed,
    stop_pressed,
)
from bot.listeners.actions.job_buttons import (
    ack_button,
    cancel_clicked,
    outputs_clicked,
    retry_clicked,
    submit_clicked,
)
from bot.listeners.commands.workstations import extend_clicked, stop_clicked
from bot.messages import home


def register(app: App) -> None:
    app.action("job_submit")(ack=ack_button, lazy=[submit_clicked])
    app.action("job_cancel")(ack=ack_button, lazy=[cancel_clicked])
    app.action("job_retry")(ack=ack_button, lazy=[retry_clicked])
    app.action("job_outputs")(ack=ack_button, lazy=[outputs_clicked])
    app.action("ws_extend")(ack=ack_button, lazy=[extend_clicked])
    app.action("ws_stop")(ack=ack_button, lazy=[stop_clicked])
    for action_id, pressed in (
        (home.JOB_CANCEL, cancel_pressed),
        (home.JOB_RETRY, retry_pressed),
        (home.JOB_MOVIE, movie_pressed),
        (home.WS_START, start_pressed),
        (home.WS_STOP, stop_pressed),
        (home.WS_EXTEND, extend_pressed),
    ):
        app.action(action_id)(ack=ack_home_button, lazy=[pressed])
