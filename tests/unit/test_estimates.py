"""The cost and time arithmetic, with worked numbers (AWS's us-east-1 x86 Lambda prices)."""

from __future__ import annotations

import pytest

from backend.config import Costs
from backend.render.estimates import Approval, approval_needed, estimate, eta_s, lambda_cost, money

COSTS = Costs()  # 10,240 MB, 10,240 MB ephemeral, $0.0000166667/GB-s, $0.20 per million requests


def test_one_minute_frame_on_the_default_function_costs_about_a_cent() -> None:
    # 10 GB × 60 s × $0.0000166667 = $0.010000; 9.5 GB storage × 60 s × $0.0000000309 = $0.0000176; 1 request
    assert lambda_cost(60.0, 1, COSTS) == pytest.approx(0.0100000 + 0.0000176 + 0.0000002, abs=1e-7)


def test_a_240_frame_shot_at_a_minute_a_frame() -> None:
    result = estimate(
        [58.0, 60.0, 62.0], [50.0, 52.0, 54.0], total=240, tasks=240, frames_left=237, chunk=1, costs=COSTS
    )
    assert result.frame_s == 60.0 and result.render_s == 52.0
    # 240 × $0.0100176 + 240 × $0.0000002 = $2.4043
    assert result.cost_usd == pytest.approx(2.4043, abs=1e-4)
    # 237 tasks, 100 at a time: 3 waves of one 60 s frame
    assert result.eta_s == 180.0


def test_smaller_memory_and_no_extra_storage() -> None:
    costs = Costs(render_memory_mb=2048, render_ephemeral_mb=512)
    # 2 GB × 100 s × $0.0000166667 = $0.00333334, plus 10 requests × $0.0000002
    assert lambda_cost(100.0, 10, costs) == pytest.approx(0.00333334 + 0.000002, abs=1e-9)


@pytest.mark.parametrize(
    ("frames_left", "chunk", "concurrency", "expected"),
    [
        (0, 1, 100, 0.0),
        (1, 1, 100, 10.0),
        (100, 1, 100, 10.0),
        (101, 1, 100, 20.0),  # one frame waits for the second wave
        (240, 10, 4, 600.0),  # 24 tasks of 10 frames, 4 at a time: 6 waves of 100 s
        (5, 10, 4, 50.0),  # one short task
    ],
)
def test_eta_counts_waves_of_tasks(frames_left: int, chunk: int, concurrency: int, expected: float) -> None:
    assert eta_s(frames_left, chunk, 10.0, concurrency) == expected


def test_who_must_agree() -> None:
    assert approval_needed(4.99, False, False, False, COSTS) is None
    assert approval_needed(None, False, False, False, COSTS) is None  # small jobs have no estimate up front
    assert approval_needed(5.01, False, False, False, COSTS) == Approval(
        "submitter", "the estimate $5.01 is over $5.00"
    )
    assert approval_needed(50.01, False, False, False, COSTS) == Approval(
        "admin", "the estimate $50.01 is over $50.00"
    )
    assert approval_needed(50.01, False, True, False, COSTS) == Approval(  # an admin confirms their own too
        "admin", "the estimate $50.01 is over $50.00"
    )
    assert approval_needed(500.0, True, False, True, COSTS) is None  # an admin pressed Submit already
    guarded = approval_needed(0.10, True, False, False, COSTS)
    assert guarded is not None and guarded.who == "admin" and "over its AWS budget" in guarded.reason
    assert approval_needed(0.10, True, True, False, COSTS) is None  # the guard does not stop admins


def test_money_shows_cents_or_what_is_below_them() -> None:
    assert money(0.0042) == "$0.0042"
    assert money(2.4043) == "$2.40"
    assert money(1234.5) == "$1,234.50"
