"""`/render`'s words give the same Reply from Slack's listener and from `studiobot render`: both call the render desk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from backend.commands import Caller, Reply, split_words
from backend.config import CLI_CHANNEL
from backend.render.desk import JobDesk
from backend.render.desk_replies import Cancelled, Held, JobsListed, Reprioritised, StatusShown
from backend.render.grammar import RenderCommand, parse_render
from local.cli import render as cli_render
from local.cli.terminal import CLI_USER
from tests.unit.test_fanout import Farm

JOB = "JOB"  # stands for the id of the job each farm made


class RecordingDesk:
    """The render desk, remembering every Reply it gave."""

    def __init__(self, desk: JobDesk) -> None:
        self.desk = desk
        self.replies: list[Reply] = []

    def run(self, command: RenderCommand, caller: Caller) -> Reply:
        reply = self.desk.run(command, caller)
        self.replies.append(reply)
        return reply


class SlackApp:
    """What `register` gives Bolt: the listeners of each command."""

    def __init__(self) -> None:
        self.lazy: dict[str, list[Callable[..., None]]] = {}

    def command(self, name: str, matchers: Any = None) -> Callable[..., None]:
        def register(*_: Any, ack: Any = None, lazy: list[Callable[..., None]] | None = None) -> None:
            self.lazy.setdefault(name, []).extend(lazy or [])

        return register


def _farm() -> tuple[Farm, RecordingDesk, str]:
    """A farm with one job, sent by the person at the terminal in its channel (each farm makes the same job)."""
    farm = Farm()
    request = parse_render(split_words("shot.blend 1-12"))
    submission = farm.services.submissions.submit(
        request, requested_by=CLI_USER, channel=CLI_CHANNEL, client_token="t1"
    )
    assert submission.job is not None
    desk = RecordingDesk(farm.services.desk)
    farm.services.__dict__["desk"] = desk
    return farm, desk, submission.job.job_id


def _from_slack(text: str) -> Reply:
    from bot.listeners.commands import register

    farm, desk, job_id = _farm()
    app = SlackApp()
    register(app)  # type: ignore[arg-type]
    (run,) = app.lazy["/render"]
    said: list[dict[str, Any]] = []
    command = {"user_id": CLI_USER, "channel_id": CLI_CHANNEL, "text": text.replace(JOB, job_id)}
    run(
        respond=lambda **message: said.append(message),
        client=None,
        command=command,
        context={"services": farm.services},
    )
    (message,) = said
    assert "went wrong" not in message["text"]
    (reply,) = desk.replies
    return reply


def _from_terminal(text: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Reply:
    farm, desk, job_id = _farm()
    monkeypatch.setenv("STUDIOBOT_HOME", str(tmp_path))
    monkeypatch.setattr(cli_render, "Services", lambda settings: farm.services)
    words = split_words(text.replace(JOB, job_id))
    cli_render._subcommand(words, None, farm.services.settings, tmp_path)  # type: ignore[arg-type]
    (reply,) = desk.replies
    return reply


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("status", StatusShown),
        (f"status {JOB}", StatusShown),
        ("list", JobsListed),
        (f"cancel {JOB}", Cancelled),
        (f"hold {JOB}", Held),
        (f"priority {JOB} urgent", Reprioritised),
    ],
)
def test_the_same_words_give_the_same_reply_in_slack_and_in_the_terminal(
    text: str, kind: type[Reply], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    in_slack = _from_slack(text)
    in_terminal = _from_terminal(text, monkeypatch, tmp_path)
    assert isinstance(in_slack, kind)
    assert in_slack == in_terminal
