"""`/render costs`: a month's jobs read in one Query from either job store, grouped; in Slack and in the CLI."""

from __future__ import annotations

import calendar
import json
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from backend.config import Costs
from backend.render.estimates import lambda_cost
from backend.render.records import FrameOutcome, FrameRecord, Job, JobStatus
from backend.render.spend import TOP_GROUPS, costs_shown
from backend.render.store import DynamoJobs
from backend.render.tasks import RenderSettings
from local.embedded.stack import deploy
from testing.jobs import InMemoryJobs
from tests.functional.cli_stack import cli_stack

from .conftest import ARTIST, CHANNEL, OTHER, Bot
from .test_budgets_provider import create_budget

DECEMBER = float(calendar.timegm((2026, 12, 1, 0, 0, 0)))
NOVEMBER_LAST = DECEMBER - 1.0  # the last second of November (UTC)
Store = DynamoJobs | InMemoryJobs


@pytest.fixture(params=["dynamodb", "in-memory"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    if request.param == "in-memory":
        yield InMemoryJobs(lambda: DECEMBER)
        return
    with mock_aws():
        yield DynamoJobs(deploy(None).settings().table_name, clock=lambda: DECEMBER)


def _job(job_id: str, created_at: float, user: str = ARTIST, **extra: object) -> Job:
    return Job(
        job_id=job_id,
        status=JobStatus.QUEUED,
        scene_bucket="scenes",
        scene_key=str(extra.pop("scene_key", "scenes/sh010/shot.blend")),
        scene_etag="etag",
        frames_spec="1-3",
        total=3,
        task_count=3,
        settings=extra.pop("settings", RenderSettings()),  # type: ignore[arg-type]
        output_bucket="outputs",
        output_prefix=f"outputs/{job_id}/",
        requested_by=user,
        channel=str(extra.pop("channel", CHANNEL)),
        created_at=created_at,
    )


def _spent(jobs: Store | DynamoJobs, job: Job, *billed_s: float) -> None:
    """Create the job and count its frames, each billed `billed_s` seconds."""
    jobs.create(job)
    for frame, seconds in enumerate(billed_s, start=1):
        record = FrameRecord(frame, FrameOutcome.DONE, seconds=1.0, output_key=f"o/{frame}", billed_s=seconds)
        jobs.record_frame(job.job_id, record)


def test_a_months_jobs_are_grouped_the_same_from_either_store(store: Store) -> None:
    costs = Costs()
    _spent(store, _job("r1", DECEMBER + 10), 100.0, 200.0)
    gpu = RenderSettings(render_class="gpu")
    _spent(store, _job("r2", DECEMBER + 20, OTHER, scene_key="scenes/sh020/b.blend", settings=gpu), 50.0)
    _spent(store, _job("r3", DECEMBER + 30, channel="C0OTHER"), 10.0)
    _spent(store, _job("r0", NOVEMBER_LAST), 999.0)  # November's: not December's spend
    for extra in range(TOP_GROUPS):  # more people than the reply lists
        _spent(store, _job(f"rx{extra}", DECEMBER + 40 + extra, f"U0EXTRA{extra:02d}"), 1.0)

    december = store.month_jobs("2026-12")
    assert sorted(job.job_id for job in december) == sorted(
        ["r1", "r2", "r3", *(f"rx{extra}" for extra in range(TOP_GROUPS))]
    )
    assert [job.job_id for job in store.month_jobs("2026-11")] == ["r0"]
    assert store.month_jobs("2026-10") == []

    by_user = costs_shown("2026-12", "user", december, costs, "scenes/")
    artist = lambda_cost(310.0, 3, costs)
    assert [(group.name, group.jobs) for group in by_user.groups[:2]] == [(ARTIST, 2), (OTHER, 1)]
    assert by_user.groups[0].usd == pytest.approx(artist)
    assert len(by_user.groups) == TOP_GROUPS and by_user.more == 2  # 17 people: 15 shown, 2 more
    assert by_user.more_usd == pytest.approx(2 * lambda_cost(1.0, 1, costs))
    everything = artist + lambda_cost(50.0, 1, costs) + TOP_GROUPS * lambda_cost(1.0, 1, costs)
    assert by_user.total_usd == pytest.approx(everything) and by_user.jobs == 3 + TOP_GROUPS

    by_shot = costs_shown("2026-12", "shot", december, costs, "scenes/")
    assert [group.name for group in by_shot.groups] == ["sh010", "sh020"]
    by_class = costs_shown("2026-12", "class", december, costs, "scenes/")
    assert {group.name: group.jobs for group in by_class.groups} == {"cpu": 2 + TOP_GROUPS, "gpu": 1}
    by_channel = costs_shown("2026-12", "channel", december, costs, "scenes/")
    assert [group.name for group in by_channel.groups] == [CHANNEL, "C0OTHER"]


def _reply_text(bot: Bot, text: str) -> str:
    bot.command(text)
    (reply,) = bot.replies()
    return str(reply["text"])


def test_slack_shows_this_months_spend_by_person_beside_the_budget(bot: Bot) -> None:
    now = time.time()  # the desk's clock: this month
    _spent(bot.stack.jobs, _job("r1", now - 1), 100.0, 200.0)
    _spent(bot.stack.jobs, _job("r2", now - 2, OTHER), 50.0)
    create_budget("studiobot-local-monthly", "500")
    costs = bot.services.settings.costs
    text = _reply_text(bot, "costs")
    month = time.strftime("%Y-%m", time.gmtime(now))
    assert text.splitlines()[:3] == [
        f"💰 Render spend in {month} by person (measured, 2 jobs):",
        f"`{'$' + format(lambda_cost(300.0, 2, costs), ',.2f'):>10}` · 1 job · <@{ARTIST}>",
        f"`{'$' + format(lambda_cost(50.0, 1, costs), '.4f'):>10}` · 1 job · <@{OTHER}>",
    ]
    assert "AWS Budgets this month (the whole account): `studiobot-local-monthly` $0.00 of $500.00." in text


def test_slack_answers_an_earlier_month_without_the_budget_and_refuses_a_month_that_is_not_one(
    bot: Bot,
) -> None:
    _spent(bot.stack.jobs, _job("r1", float(calendar.timegm((2026, 3, 15, 0, 0, 0)))), 100.0)
    create_budget("studiobot-local-monthly", "500")  # this month's: not March's
    text = _reply_text(bot, "costs --month 2026-03 --by shot")
    assert text.startswith("💰 Render spend in 2026-03 by shot (measured, 1 job):") and "`sh010`" in text
    assert "AWS Budgets" not in text
    refused = json.loads(bot.command("costs --month 2026-13", trigger="t2").body)["text"]
    assert "`--month 2026-13` is not a month: use YEAR-MONTH with the month from 01 to 12" in refused


def test_the_cli_prints_the_months_spend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with cli_stack(tmp_path / ".studiobot") as running:
        monkeypatch.setenv("AWS_ENDPOINT_URL", running.info.endpoint)
        jobs = DynamoJobs(running.info.settings().table_name, client=boto3.client("dynamodb"))
        _spent(jobs, _job("r1", time.time() - 5, scene_key="scenes/projB/sh030/shot.blend"), 100.0)
        printed = running.run("render", "costs", "--by", "shot")
        refused = running.run("render", "costs", "--month", "2026-13")
    assert printed.returncode == 0, printed.stdout + printed.stderr
    assert "by shot (measured, 1 job):" in printed.stdout and "`projB/sh030`" in printed.stdout
    assert "Total $" in printed.stdout
    assert refused.returncode == 1 and "`--month 2026-13` is not a month" in refused.stdout
