"""Job history is kept `jobHistoryDays` (90 by default): the table expires what the store writes after that."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from backend.config import Settings
from backend.render.records import FrameOutcome, FrameRecord, Job, JobStatus, TileRecord
from backend.render.store import DynamoJobs
from backend.render.store.items import PURGE_ATTRIBUTE
from backend.render.tasks import RenderSettings
from local.embedded.stack import deploy

NOW = 1_800_000_000.0
DAY_S = 86_400


@pytest.fixture
def table() -> Iterator[str]:
    with mock_aws():
        yield deploy(None).settings().table_name


def _job(job_id: str) -> Job:
    return Job(
        job_id=job_id,
        status=JobStatus.QUEUED,
        scene_bucket="scenes",
        scene_key="scenes/shot.blend",
        scene_etag="etag",
        frames_spec="1-3",
        total=3,
        task_count=3,
        settings=RenderSettings(),
        output_bucket="outputs",
        output_prefix=f"outputs/{job_id}/",
        requested_by="U0ARTIST",
        channel="C1",
        created_at=NOW,
    )


def test_the_table_expires_items_by_their_purge_time(table: str) -> None:
    ttl = boto3.client("dynamodb").describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": PURGE_ATTRIBUTE}


@pytest.mark.parametrize("days", [90, 7])
def test_every_item_the_store_writes_for_a_job_carries_its_purge_time(table: str, days: int) -> None:
    # GIVEN a store keeping `days` of history
    jobs = DynamoJobs(table, clock=lambda: NOW, history_days=days)
    # WHEN a job is created, a frame recorded, an error noted, a tile recorded and a stitch claimed
    jobs.create(_job("j1"))
    jobs.record_frame("j1", FrameRecord(1, FrameOutcome.DONE, seconds=1.0, output_key="out/1.png"))
    jobs.note_frame_error("j1", 2, "Blender ran out of memory.")
    jobs.create(_job("j2"))
    jobs.record_tile("j2", 1, TileRecord(0, FrameOutcome.DONE, seconds=1.0, output_key="tiles/1/0.exr"))
    assert jobs.claim_stitch("j2", 1)
    # THEN each item (job, frame, error, tile, stitch claim; the notice claims live on the job's item) goes
    # `days` after it was written, as an epoch second DynamoDB's TTL reads
    items = boto3.client("dynamodb").scan(TableName=table)["Items"]
    kinds = {item["sk"]["S"].split("#")[0]: item for item in items}
    assert set(kinds) == {"JOB", "FRAME", "ERROR", "TILE", "STITCH"}
    for kind, item in kinds.items():
        assert item[PURGE_ATTRIBUTE] == {"N": str(int(NOW) + days * DAY_S)}, kind


def test_the_history_kept_comes_from_the_deploy() -> None:
    assert Settings.from_env({}).limits.job_history_days == 90
    assert Settings.from_env({"STUDIOBOT_JOB_HISTORY_DAYS": "30"}).limits.job_history_days == 30
    assert (
        Settings.from_env({"STUDIOBOT_JOB_HISTORY_DAYS": "30"}).to_env()["STUDIOBOT_JOB_HISTORY_DAYS"] == "30"
    )
