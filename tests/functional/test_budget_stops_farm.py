"""Budgets that stop scheduling, on the local stack: when AWS Budgets says actual spend passed the limit, the guard
holds every queued or rendering job (`stop-and-finish`) or cancels them (`stop-and-cancel`), by setting, and the
channel hears one message listing them; `ask` (the default) only asks an admin for new renders, as before."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import entry.budget_alerts as budget_lambda
from backend.budgets.stopping import BUDGET_GUARD
from backend.commands import split_words
from backend.config import ENV_BUDGET_ACTION
from backend.events import BudgetGuardChanged
from backend.render.grammar import parse_render
from backend.render.records import Job, JobStatus
from backend.render.tasks import RenderTask
from blender_image.scene_cache import SceneCache
from blender_image.worker import RenderWorker
from bot.messages.budgets import guard_changed_text
from entry import wiring
from local.embedded.poller import QueuePoller
from testing.renderer import PillowRenderer

from .conftest import Stack

EVENT = Path(__file__).resolve().parents[1] / "events" / "sns_budget_notification.json"


@pytest.fixture(params=["stop-and-finish", "stop-and-cancel", "ask"])
def deployed(
    request: pytest.FixtureRequest, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Stack]:
    """The budget Lambda composed from the environment, with each `budget_action`."""
    for name, value in {**stack.settings.to_env(), ENV_BUDGET_ACTION: request.param}.items():
        monkeypatch.setenv(name, value)
    wiring.from_env.cache_clear()
    yield stack
    wiring.from_env.cache_clear()


def _submit(stack: Stack, text: str, token: str) -> Job:
    submission = stack.service.submit(
        parse_render(split_words(text)), requested_by="U1", channel="C1", client_token=token
    )
    assert submission.job is not None
    return submission.job


def _drain(stack: Stack, tmp_path: Path, renderer: PillowRenderer) -> None:
    worker = RenderWorker(
        jobs=stack.jobs,
        reporter=stack.reporter,
        scenes=SceneCache(stack.store, tmp_path / "scenes"),
        renderer=renderer,
        uploader=stack.store,
        work_dir=tmp_path / "work",
    )

    def handler(event: dict[str, Any], context: Any) -> None:
        for record in event["Records"]:
            worker.run(RenderTask.from_json(record["body"]))

    poller = QueuePoller(stack.sqs, stack.settings.render_queue_url, handler, "worker", wait_s=0)
    while poller.poll_once():
        pass


def test_actual_spend_over_the_limit_stops_the_farm_by_setting_and_says_which_jobs(
    deployed: Stack, tmp_path: Path
) -> None:
    action = wiring.from_env().settings.budget_action
    # GIVEN two jobs queued, one of them rendering already (a frame counted), and one finished
    deployed.put_scene()
    first = _submit(deployed, "shot.blend 1-6 --res 32x18", "t1")
    second = _submit(deployed, "shot.blend 1-4 --res 32x18", "t2")
    over = _submit(deployed, "shot.blend 1 --res 32x18", "t3")
    deployed.jobs.start(first.job_id)
    deployed.render_frames(first.job_id, [1])
    deployed.render_frames(over.job_id, [1])
    # WHEN AWS Budgets says actual spend passed the limit
    budget_lambda.handler(json.loads(EVENT.read_text()), None)
    # THEN the guard is on, and one message lists what it did to the jobs still going
    (changed,) = [event for event in deployed.events() if isinstance(event, BudgetGuardChanged)]
    going = [first.job_id, second.job_id]
    renderer = PillowRenderer()
    _drain(deployed, tmp_path, renderer)
    statuses = [deployed.jobs.get(job_id).status for job_id in going]
    if action == "stop-and-finish":
        assert (changed.action, changed.held, changed.cancelled) == (action, going, [])
        assert statuses == [JobStatus.HELD, JobStatus.HELD]
        assert {deployed.jobs.get(job_id).held_by for job_id in going} == {BUDGET_GUARD}
        assert renderer.rendered == []  # their queued tasks were deleted unrendered
        assert f"⏸ Held 2 jobs (the frames in hand finish): `{first.job_id}`, `{second.job_id}`" in (
            guard_changed_text(changed)
        )
    elif action == "stop-and-cancel":
        assert (changed.action, changed.held, changed.cancelled) == (action, [], going)
        assert statuses == [JobStatus.CANCELLED, JobStatus.CANCELLED] and renderer.rendered == []
        assert f"🛑 Cancelled 2 jobs: `{first.job_id}`, `{second.job_id}`." in guard_changed_text(changed)
    else:  # ask: today's behaviour, the jobs go on
        assert (changed.action, changed.held, changed.cancelled) == ("", [], [])
        assert sorted(renderer.rendered) == [1, 2, 2, 3, 3, 4, 4, 5, 6]
        assert "Held" not in guard_changed_text(changed)
    assert deployed.jobs.get(over.job_id).status is JobStatus.DONE
