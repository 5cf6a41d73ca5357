"""Generated extremes for the message builders: what people name things with (Slack's control characters, entities
typed by hand, emoji, NUL), fleets and budget lists hundreds long, jobs of up to 10,000 frames with failures
scattered any way, and every kind of event."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from backend.budgets.guard import GuardState
from backend.budgets.provider import Budget
from backend.events import (
    BudgetAlert,
    BudgetGuardChanged,
    JobApproved,
    JobCompleted,
    JobEstimated,
    JobProgress,
    KeepAliveReport,
    SessionExpiring,
    SessionExtended,
    SessionKept,
    SessionStopped,
    WorkstationAlert,
)
from backend.render.estimates import Estimate
from backend.render.frames import compact
from backend.render.records import JobStatus, job_id_for
from backend.render.tasks import RenderSettings
from backend.workstations.presence import Seen, Use
from backend.workstations.service import StatusRow
from tests.unit.test_blocks import NOW, _job

EXTREMES = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
# What people name things with: Slack's control characters, entities typed by hand, mentions and links they did
# not mean, mrkdwn marks, emoji (one code point, a ZWJ family, a flag), accents, NUL, newlines.
_PIECES = ["&", "<", ">", "&amp;", "&lt;", "<@U0ARTIST>", "<!channel>", "<https://x.test|x>", "`", "```", "*"]
_PIECES += ["|", "\n", " ", "🎬", "👩‍👩‍👧", "🇫🇷", "é", "a", "shot010/", ".blend", "\x00", ";", "#", '"', "\\"]

_WORST = ["&", "<", ">", "👩‍👩‍👧", "🇫🇷", "\x00", '"']


def people_text(most: int) -> st.SearchStrategy[str]:
    """Text a person or AWS wrote, up to `most` characters, often at the extremes."""
    return st.one_of(
        st.text(max_size=min(most, 40)),
        st.lists(st.sampled_from(_PIECES), max_size=min(most, 60)).map("".join).map(lambda text: text[:most]),
        st.tuples(st.sampled_from(_PIECES), st.integers(0, most)).map(
            lambda run: (run[0] * run[1])[: run[1]]
        ),
        # As long as it may be, of what grows most when escaped or measured: twice as likely as the others,
        # since the worst case is what this test is for.
        st.sampled_from(_WORST).map(lambda piece: (piece * most)[:most]),
        st.sampled_from(_WORST).map(lambda piece: (piece * most)[:most]),
    )


NAMES, KEYS, REASONS = people_text(300), people_text(1_024), people_text(2_000)
USERS = st.one_of(st.sampled_from(["U0ARTIST", "W0ADMIN", "AWS Budgets"]), people_text(300))
COUNT = st.integers(0, 10_000)


@st.composite
def frames_of(draw: st.DrawFn, total: int) -> list[int]:
    """Failed frames of a job of `total`: none, all, every other one, or a random scattering."""
    pattern = draw(st.sampled_from(["none", "all", "every_other", "scattered"]))
    if pattern == "none" or total == 0:
        return []
    if pattern == "all":
        return list(range(1, total + 1))
    if pattern == "every_other":
        return list(range(1, total + 1, 2))
    rng = random.Random(draw(st.integers(0, 2**32)))
    return sorted(rng.sample(range(1, total + 1), rng.randint(1, total)))


@st.composite
def jobs(draw: st.DrawFn) -> Any:
    total = draw(COUNT)
    failed = draw(st.integers(0, total))
    done = draw(st.integers(0, total - failed))
    spec = draw(st.one_of(st.just("1-240"), KEYS, frames_of(total).map(compact)))
    estimate = draw(st.none() | st.just(Estimate(frame_s=309.0, render_s=290.2, cost_usd=1e6, eta_s=9e6)))
    return _job(
        job_id=job_id_for(draw(st.text(max_size=8))),
        status=draw(st.sampled_from(list(JobStatus))),
        scene_key=draw(KEYS),
        frames_spec=spec or "1",
        total=total,
        done=done,
        failed=failed,
        requested_by=draw(USERS),
        created_at=NOW - draw(st.floats(0, 1e7)),
        finished_at=draw(st.none() | st.just(NOW)),
        probe_frames=tuple(draw(st.lists(st.integers(1, 10_000), max_size=3))),
        estimate=estimate,
        billed_s=draw(st.floats(0, 1e8)),
        approval=draw(st.sampled_from(["", "submitter", "admin"])),
        approval_reason=draw(REASONS),
        awaiting_since=NOW,
        failure=draw(REASONS),
        retry_of=draw(st.sampled_from(["", "r0ld0ld0ld"])),
        missing_allowed=draw(st.integers(0, 5_000)),
        settings=RenderSettings(resolution=(7680, 4320), samples=4096, engine="CYCLES", chunk=50),
    )


def many(strategy: st.SearchStrategy[Any], most: int) -> st.SearchStrategy[list[Any]]:
    """0 to `most` items: a few generated ones repeated, so the largest sizes are reached cheaply."""
    return st.tuples(st.integers(0, most), st.lists(strategy, min_size=1, max_size=6)).map(
        lambda drawn: [drawn[1][index % len(drawn[1])] for index in range(drawn[0])]
    )


ROWS = st.builds(
    StatusRow,
    name=NAMES,
    owner=USERS,
    state=st.sampled_from(["running", "stopped", "pending", "stopping"]),
    up_for=st.none() | st.just(timedelta(days=400)),
    expires_in=st.none() | st.just(timedelta(hours=11, minutes=30)),
    keepalive=st.booleans(),
    seen=st.none()
    | st.builds(
        Seen,
        use=st.sampled_from(Use),
        users=st.lists(st.text(min_size=1, max_size=300), max_size=5).map(tuple),
        since=st.none() | st.just(1_800_000_000.0),
        idle_s=st.none() | st.floats(0, 1e7),
        why=st.text(max_size=2000),
    ),
)
BUDGETS = st.builds(
    Budget,
    name=NAMES,
    limit=st.floats(0, 1e12),
    actual=st.floats(0, 1e12),
    forecast=st.none() | st.floats(0, 1e12),
    unit=st.sampled_from(["USD", "Hrs", "GB"]),
)
GUARDS = st.builds(GuardState, on=st.booleans(), by=USERS, reason=REASONS, changed_at=st.just(NOW))
PAGES = st.integers(1, 30)


def event_list(
    total: int, failed: list[int], name: str, user: str, key: str, reason: str, names: list[str], flag: bool
) -> list[Any]:
    """One event of each kind, filled with these values."""
    completed = [
        JobCompleted(
            job_id_for(status), status, key, total - len(failed), len(failed), total, failed_frames=failed,
            output_bucket=name, output_prefix=key, created_at=1.0, finished_at=NOW, requested_by=user,
        )
        for status in ("done", "done_with_failures", "failed", "expired", "cancelled", reason[:20])
    ]  # fmt: skip
    return [
        JobProgress(job_id_for("a"), key, total - len(failed), len(failed), total),
        *completed,
        *(JobEstimated(job_id_for("c"), 1e6, 1e7, who, reason, user) for who in ("", "admin", "submitter")),
        JobApproved(job_id_for("d"), user),
        SessionExpiring(name, user, NOW, flag),
        SessionStopped(name, user, reason),
        SessionExtended(name, user, NOW, reason),
        KeepAliveReport(names, names, names, reason, dict.fromkeys(names, reason)),
        *(
            SessionKept(name, user, NOW, use, names, NOW - 3600, idle, reason, stop)
            for use, idle, stop in (("active", 60.0, 0.0), ("idle", 1e7, NOW + 1800), ("unknown", -1.0, 0.0))
        ),
        WorkstationAlert(name, user, "spot-interruption", name),
        WorkstationAlert(name, user, "state-change", name),
        BudgetAlert(name, "ACTUAL", 1e9, 1e12, 0.0),
        BudgetAlert(name, "FORECASTED", 0.0, 1e12, 1e9),
        BudgetGuardChanged(flag, user, reason),
    ]


@st.composite
def events(draw: st.DrawFn) -> list[Any]:
    """Every kind of event, each field a person or AWS fills at its extremes."""
    total = draw(COUNT)
    failed = draw(frames_of(total))
    return event_list(
        total,
        failed,
        draw(NAMES),
        draw(USERS),
        draw(KEYS),
        draw(REASONS),
        draw(many(NAMES, 500)),
        draw(st.booleans()),
    )


WORST_EVENTS = event_list(
    10_000, list(range(1, 10_001, 2)), "&" * 300, "<" * 300, "&" * 1_024, ">" * 2_000, ["&" * 300] * 500, True
)
