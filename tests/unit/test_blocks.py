"""Every Slack message's blocks against a stored snapshot (`UPDATE_SNAPSHOTS=1 make test` rewrites them)."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from backend.budgets.guard import GuardState
from backend.budgets.provider import Budget
from backend.budgets.service import BudgetStatus
from backend.events import BudgetAlert, BudgetGuardChanged
from backend.render.estimates import Estimate
from backend.render.records import Job, JobStatus
from backend.render.tasks import RenderSettings
from backend.workstations.presence import Seen, Use
from backend.workstations.service import StatusRow
from bot.messages import budgets, error_message, render, render_completion, render_modal
from bot.messages import workstations as ws_messages
from bot.messages.render_replies import job_table

SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots"
NOW = 1_800_000_600.0
# 240 frames at 309 s billed each on the default 10 GB function: $12.40; 237 left, 100 at a time: 3 waves
ESTIMATE = Estimate(frame_s=309.0, render_s=290.2, cost_usd=12.4036, eta_s=927.0)
_OVER = "`studiobot-prod-monthly` has spent $512.34 of its $500.00 budget"


def _job(**changes: Any) -> Job:
    values: dict[str, Any] = {
        "job_id": "r1a2b3c4d5",
        "status": JobStatus.RUNNING,
        "scene_bucket": "scenes",
        "scene_key": "scenes/shot010/shot.blend",
        "scene_etag": "e",
        "frames_spec": "1-240",
        "total": 240,
        "task_count": 240,
        "settings": RenderSettings(resolution=(1920, 1080), samples=64, engine="CYCLES"),
        "output_bucket": "outputs",
        "output_prefix": "outputs/r1a2b3c4d5/",
        "requested_by": "U0ARTIST",
        "channel": "C0RENDERS",
        "done": 118,
        "failed": 2,
        "created_at": 1_800_000_000.0,
        "started_at": 1_800_000_030.0,
    }
    values.update(changes)
    return Job(**values)


_WORKSTATIONS = [
    StatusRow("anim-01", "U0ARTIST", "running", timedelta(hours=2), timedelta(hours=9, minutes=30), True, Seen(Use.ACTIVE, ("anna",), since=1_800_000_000.0)),
    StatusRow("comp-02 & <lighting>", "render-team", "stopped", None, timedelta(days=3), False),
]  # fmt: skip
_GUARDED = BudgetStatus(
    [
        Budget("farm-hours", limit=1_000.0, actual=412.0, forecast=None, unit="Hrs"),
        Budget("studiobot-prod-monthly", limit=500.0, actual=512.34, forecast=1_240.5),
    ],
    GuardState(True, "AWS Budgets", _OVER, changed_at=NOW),
)
CASES = {
    "card_running": lambda: render.job_card(_job(), NOW),
    "card_queued": lambda: render.job_card(
        _job(status=JobStatus.QUEUED, done=0, failed=0, started_at=None), NOW
    ),
    "card_done_with_failures": lambda: render.job_card(
        _job(status=JobStatus.DONE_WITH_FAILURES, done=238, failed=2, finished_at=1_800_001_200.0), NOW
    ),
    "card_retry_done": lambda: render.job_card(
        _job(
            status=JobStatus.DONE,
            done=2,
            failed=0,
            total=2,
            frames_spec="7,9",
            retry_of="r0ld0ld0ld",
            finished_at=1_800_000_100.0,
        ),
        NOW,
    ),
    "card_probing": lambda: render.job_card(
        _job(status=JobStatus.PROBING, done=1, failed=0, probe_frames=(1, 121, 240), billed_s=95.0), NOW
    ),
    "card_awaiting_submit": lambda: render.job_card(
        _job(
            status=JobStatus.AWAITING_APPROVAL,
            done=3,
            failed=0,
            probe_frames=(1, 121, 240),
            estimate=ESTIMATE,
            billed_s=927.0,
            approval="submitter",
            approval_reason="the estimate $12.40 is over $5.00",
            awaiting_since=1_800_000_300.0,
        ),
        NOW,
    ),
    "card_running_estimated": lambda: render.job_card(
        _job(
            done=60,
            failed=0,
            probe_frames=(1, 121, 240),
            estimate=ESTIMATE,
            billed_s=18_540.0,
            fanned_out_at=1_800_000_400.0,
        ),
        NOW,
    ),
    "card_probe_failed": lambda: render.job_card(
        _job(
            status=JobStatus.FAILED,
            done=2,
            failed=1,
            probe_frames=(1, 121, 240),
            billed_s=150.0,
            finished_at=1_800_000_200.0,
            failure="probe frame 121 failed: RuntimeError: texture wood.png is missing",
        ),
        NOW,
    ),
    "completion_probe_failed": lambda: (
        render_completion.completion_reply(
            _job(
                status=JobStatus.FAILED,
                done=2,
                failed=1,
                billed_s=150.0,
                finished_at=1_800_000_200.0,
                failure="probe frame 121 failed: RuntimeError: texture wood.png is missing",
            ),
            [121],
            None,
            {},
        ),
        [],
    ),
    "completion_expired": lambda: (
        render_completion.completion_reply(
            _job(
                status=JobStatus.EXPIRED,
                done=3,
                failed=0,
                estimate=ESTIMATE,
                billed_s=927.0,
                finished_at=1_800_002_100.0,
                failure="nobody pressed Submit within 30 min 00 s",
            ),
            [],
            None,
            {},
        ),
        [],
    ),
    "completion_done_with_cost": lambda: (
        render_completion.completion_reply(
            _job(
                status=JobStatus.DONE,
                done=240,
                failed=0,
                estimate=ESTIMATE,
                billed_s=71_000.0,
                finished_at=1_800_003_000.0,
            ),
            [],
            None,
            {},
        ),
        [],
    ),
    "approval_request_admin": lambda: (
        render.approval_request(
            _job(
                status=JobStatus.AWAITING_APPROVAL,
                estimate=Estimate(frame_s=1547.0, render_s=1500.0, cost_usd=62.1, eta_s=4641.0),
                approval="admin",
                approval_reason="the estimate $62.10 is over $50.00",
            ),
            frozenset({"U0ADMIN"}),
        ),
        [],
    ),
    "help": render.help_message,
    "error": lambda: error_message("Frame range `240-1x0` has a step of 0: e.g. `1-240x2`."),
    "list": lambda: render.job_list(
        [_job(job_id="r0ther0000", requested_by="U0OTHER", created_at=1_800_000_300.0), _job()],
        "U0ARTIST",
        NOW,
    ),
    "list_table": lambda: job_table(
        [_job(job_id="r0ther0000", requested_by="U0OTHER", created_at=1_800_000_300.0), _job()],
        "U0ARTIST",
        NOW,
    ),
    "completion_with_failures": lambda: (
        render_completion.completion_reply(
            _job(status=JobStatus.DONE_WITH_FAILURES, done=238, failed=2, finished_at=1_800_001_200.0),
            [17, 18],
            "https://outputs.s3.amazonaws.com/outputs/r1a2b3c4d5/shot_frames.zip?X-Amz-Signature=abc",
            {
                17: "RuntimeError: texture wood.png is missing",
                18: "RuntimeError: texture wood.png is missing",
            },
        ),
        [],
    ),
    "render_modal": lambda: ("", [render_modal.render_modal("F0SCENE", "layout_v3.blend", "C0RENDERS")]),
    "budget_help": budgets.budget_help,
    "workstations_table": lambda: ws_messages.workstations_table(_WORKSTATIONS),
    "workstations_table_code_blocks": lambda: ws_messages.workstations_table(_WORKSTATIONS).fallback,  # type: ignore[attr-defined]
    "budget_status_guard_on": lambda: budgets.budget_status(_GUARDED),
    # where Slack refuses table blocks: today's code blocks, as they were before tables
    "budget_status_guard_on_code_blocks": lambda: budgets.budget_status(_GUARDED).fallback,  # type: ignore[attr-defined]
    "budget_status_guard_off": lambda: budgets.budget_status(
        BudgetStatus([], GuardState(False, "U0ADMIN", "", changed_at=NOW))
    ),
    "budget_alert_actual_over": lambda: budgets.budget_alert_message(
        BudgetAlert("studiobot-prod-monthly", "ACTUAL", 500.0, 512.34, 500.0)
    ),
    "budget_alert_actual_80": lambda: budgets.budget_alert_message(
        BudgetAlert("studiobot-prod-monthly", "ACTUAL", 400.0, 415.0, 500.0)
    ),
    "budget_alert_forecast": lambda: budgets.budget_alert_message(
        BudgetAlert("studiobot-prod-monthly", "FORECASTED", 500.0, 1_240.5, 500.0)
    ),
    "guard_on": lambda: budgets.guard_changed_message(BudgetGuardChanged(True, "AWS Budgets", _OVER)),
    "guard_off": lambda: budgets.guard_changed_message(BudgetGuardChanged(False, "U0ADMIN")),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_message_matches_its_snapshot(name: str) -> None:
    text, built = CASES[name]()
    current = {"text": text, "blocks": built}
    path = SNAPSHOTS / f"{name}.json"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" or not path.exists():
        path.write_text(json.dumps(current, indent=2, ensure_ascii=False) + "\n")
    assert current == json.loads(path.read_text())


def test_block_kit_limits_hold() -> None:
    for name, build in CASES.items():
        text, built = build()
        assert len(text) <= 40_000, name
        assert len(built) <= 50, name
        for block in built:
            section_text = block.get("text", {}).get("text", "")
            assert len(section_text) <= 3_000, name


def test_a_job_rendering_without_missing_files_says_so_on_its_card() -> None:
    job = _job(missing_allowed=2)
    _, card = render.job_card(job, job.created_at + 10)
    said = json.dumps(card, ensure_ascii=False)
    assert "⚠️ Rendering without 2 missing files (`--allow-missing`)" in said


def test_the_terminal_says_why_frames_failed_as_slack_does() -> None:
    reasons = {2: "Blender cannot find image `wood.png` (`//textures/wood.png`)", 5: "RuntimeError: boom"}
    assert render_completion.failure_lines(reasons) == (
        "\n• frame 2: Blender cannot find image `wood.png` (`//textures/wood.png`)\n• frame 5: RuntimeError: boom"
    )
    many = {frame: "no camera" for frame in range(1, 8)}
    assert render_completion.failure_lines(many).endswith("\n• frame 3: no camera\n• …and 4 more")
