"""The cards of the jobs waiting behind one that moved on: each refreshed at most once an interval, one Slack error
on one card never stops the others nor sends the progress round again."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import Any

from backend.config import Costs
from backend.render.records import Job, JobStatus
from backend.render.tasks import RenderSettings
from bot.cards import Card
from bot.queue_cards import refresh_waiting
from testing.jobs import InMemoryJobs

NOW = 1_800_000_600.0


@dataclass
class _Cards:
    """Cards by job, each claimable once (as if the interval had not passed since)."""

    cards: dict[str, Card]
    claimed: set[str] = field(default_factory=set)
    marked: list[str] = field(default_factory=list)

    def claim_update(self, job_id: str, interval_s: float) -> Card | None:
        if job_id in self.claimed or job_id not in self.cards:
            return None
        self.claimed.add(job_id)
        return self.cards[job_id]

    def mark_updated(self, job_id: str) -> None:
        self.marked.append(job_id)


@dataclass
class _Slack:
    """Refuses to update the card `broken`; records the others."""

    broken: str
    updated: dict[str, str] = field(default_factory=dict)

    def chat_update(self, channel: str, ts: str, text: str, blocks: Any) -> None:
        if ts == self.broken:
            raise RuntimeError("channel_not_found")
        self.updated[ts] = "\n".join(str(block) for block in blocks)


def _job(job_id: str, created_at: float, **changes: Any) -> Job:
    values: dict[str, Any] = {
        "job_id": job_id,
        "status": JobStatus.QUEUED,
        "scene_bucket": "scenes",
        "scene_key": "scenes/shot.blend",
        "scene_etag": "e",
        "frames_spec": "1-4",
        "total": 4,
        "task_count": 4,
        "settings": RenderSettings(),
        "output_bucket": "outputs",
        "output_prefix": f"outputs/{job_id}/",
        "created_at": created_at,
    }
    return Job(**(values | changes))


def test_each_waiting_card_is_refreshed_once_an_interval_and_a_broken_one_stops_nothing() -> None:
    jobs = InMemoryJobs(clock=lambda: NOW)
    big = _job("rbig", NOW - 100, total=400, task_count=400)
    jobs.create(replace(big, status=JobStatus.RUNNING, started_at=NOW - 50, done=100))
    for job_id, created in (("rgone", NOW - 30), ("rsmall", NOW - 20), ("rcli", NOW - 10)):
        jobs.create(_job(job_id, created))
    cards = _Cards({"rgone": Card("C1", "1.1"), "rsmall": Card("C1", "2.2"), "rbig": Card("C1", "0.0")})
    slack = _Slack(broken="1.1")
    services = SimpleNamespace(clock=lambda: NOW, jobs=jobs, settings=SimpleNamespace(costs=Costs()))
    moved = jobs.get("rbig")
    # WHEN the big job moves on: the small job's card says where it stands, the broken card is let be
    assert refresh_waiting(slack, services, cards, moved, 5.0) == 1  # type: ignore[arg-type]
    assert list(slack.updated) == ["2.2"] and cards.marked == ["rsmall"]
    assert "2 jobs ahead (2 frames: jobs of one priority take turns)" in slack.updated["2.2"]
    # AND again within the interval: nothing is updated twice
    assert refresh_waiting(slack, services, cards, moved, 5.0) == 0  # type: ignore[arg-type]
