"""From Slack: a big render probes, its card shows the estimate and a Submit button, the thread asks the right
person once, only they (or an admin) may press it, and then the rest renders."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from itertools import count
from pathlib import Path

import pytest
from slack_sdk import WebClient

from backend.config import Access, Costs, SlackCredentials
from backend.render.records import JobStatus
from backend.render.tasks import RenderTask
from blender_image.scene_cache import SceneCache
from blender_image.worker import RenderWorker
from bot.app import build_app, web_client
from bot.notifier import SlackNotifier
from entry.wiring import Services
from testing.renderer import PillowRenderer
from testing.slack import FakeSlack

from .conftest import ADMIN, ARTIST, CHANNEL, OTHER, SECRET, Bot, Stack

COSTS = Costs(probe_over_frames=10, confirm_over_usd=0.10, admin_over_usd=50.0, concurrency=4)


@pytest.fixture
def costly_bot(stack: Stack) -> Iterator[Bot]:
    with FakeSlack() as slack:
        settings = replace(
            stack.settings,
            slack_api_url=slack.base_url,
            access=Access(admins=frozenset({ADMIN})),
            costs=COSTS,
            card_update_interval_s=0.0,
        )
        services = Services(settings)
        client: WebClient = web_client(settings, "xoxb-test")
        app = build_app(settings, SlackCredentials("xoxb-test", SECRET), client=client, services=services)
        yield Bot(app, slack, stack, services)


def _worker(bot: Bot, tmp_path: Path) -> RenderWorker:
    ticks = count()
    return RenderWorker(
        jobs=bot.services.jobs,
        reporter=bot.services.reporter,
        scenes=SceneCache(bot.stack.store, tmp_path / "scenes"),
        renderer=PillowRenderer(),
        uploader=bot.stack.store,
        work_dir=tmp_path,
        clock=lambda: next(ticks) * 60.0,  # each frame: 3 minutes billed
    )


def _deliver(bot: Bot, notifier: SlackNotifier, twice: bool = False) -> None:
    for event in bot.stack.events()[len(getattr(bot.stack, "_seen", [])) :]:
        notifier.handle(event)
        if twice:
            notifier.handle(event)  # SNS delivers at least once
    bot.stack._seen = list(bot.stack.received)  # type: ignore[attr-defined]


def test_a_big_render_waits_for_its_submitters_submit_then_renders_the_rest(
    costly_bot: Bot, tmp_path: Path
) -> None:
    bot = costly_bot
    bot.stack.put_scene()
    assert bot.command("shot.blend 1-24 --res 32x18").status == 200
    (card,) = bot.slack.wait_for("chat.postMessage")
    assert card.args["text"].startswith("🔍 Probing")
    assert "Rendering frames 1, 13, 24 first" in str(card.args["blocks"])
    job = bot.services.jobs.recent(CHANNEL)[0]

    worker = _worker(bot, tmp_path)
    probes = [RenderTask.from_json(body) for body in bot.stack.queued_bodies()]
    for task in probes:
        worker.run(task)
    notifier = SlackNotifier(WebClient(token="xoxb-test", base_url=bot.slack.base_url), bot.services)
    _deliver(bot, notifier, twice=True)

    updated = bot.slack.calls_to("chat.update")[-1]
    assert updated.args["text"].startswith("✋ Waiting for Submit")
    card_text = str(updated.args["blocks"])
    assert "Estimate $0.72" in card_text and "the estimate $0.72 is over $0.10" in card_text
    assert "'action_id': 'job_submit'" in card_text
    (ask,) = [call for call in bot.slack.calls_to("chat.postMessage") if call.args.get("thread_ts")]
    assert ask.args["text"].startswith(f"✋ <@{ARTIST}>: `{job.job_id}` waits for your *Submit*")
    assert bot.stack.queued_bodies() == []  # nothing more until someone submits

    bot.click("job_submit", job.job_id, user=OTHER)
    (refusal,) = bot.replies()
    assert f"Only <@{ARTIST}> (who asked for `{job.job_id}`) or an admin can submit it." in refusal["text"]
    bot.click("job_submit", job.job_id, user=ARTIST)
    answer = bot.replies(2)[-1]
    assert answer["text"] == f"▶️ Submitted `{job.job_id}`: its frames are on their way."
    assert len(bot.stack.queued_bodies()) == 21
    assert bot.services.jobs.get(job.job_id).status is JobStatus.RUNNING

    _deliver(bot, notifier, twice=True)
    threaded = [
        call.args["text"] for call in bot.slack.calls_to("chat.postMessage") if call.args.get("thread_ts")
    ]
    assert threaded[1:] == [f"▶️ <@{ARTIST}> submitted `{job.job_id}`: 21 frames are on their way."]

    bot.command(f"submit {job.job_id}", user=ADMIN, trigger="t2")
    again = bot.replies(3)[-1]
    assert f"`{job.job_id}` was submitted already, by <@{ARTIST}>." in again["text"]


def test_while_the_budget_guard_is_on_a_render_waits_for_an_admin_and_the_admins_are_asked(
    costly_bot: Bot,
) -> None:
    bot = costly_bot
    bot.services.guard.turn(True, "AWS Budgets", "`studiobot-prod-monthly` has spent $512.34 of $500.00")
    bot.stack.put_scene()
    bot.command("shot.blend 1-4 --res 32x18")
    card, ask = bot.slack.wait_for("chat.postMessage", 2)
    assert card.args["text"].startswith("✋ Waiting for Submit")
    job = bot.services.jobs.recent(CHANNEL)[0]
    assert ask.args["thread_ts"] and ask.args["text"].startswith(
        f"✋ <@{ADMIN}>: `{job.job_id}` by <@{ARTIST}> needs an admin's *Submit* "
        "(the studio is over its AWS budget, so new renders need an admin)."
    )
    assert bot.stack.queued_bodies() == []  # nothing renders, not even a probe
    bot.command(f"submit {job.job_id}", trigger="t2")
    (refusal,) = [reply for reply in bot.replies(1)]
    assert "Only an admin can submit" in refusal["text"]
    bot.click("job_submit", job.job_id, user=ADMIN)
    assert bot.replies(2)[-1]["text"] == f"▶️ Submitted `{job.job_id}`: its frames are on their way."
    assert len(bot.stack.queued_bodies()) == 4
