"""A tile task's part of the worker: keep the tile (upload, record it once), and in the worker that records a
frame's last tile, stitch the frame, exactly once however the deliveries fall."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from aws_lambda_powertools import Logger

from backend.names import under
from backend.render.job_life import JobLifecycle
from backend.render.ports import JobStore
from backend.render.previews import proxy_path
from backend.render.records import FrameOutcome, TileRecord
from backend.render.store.tiles import STITCH_LEASE_S
from backend.render.tasks import RenderTask
from backend.render.tiles import Cut, tile_count
from blender_image.stitch import stitch

logger = Logger(service="studiobot-render")


class StitchPending(RuntimeError):
    """The frame's stitch is held by another worker: the task is tried again later, not acknowledged."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s  # a render node hides the task this long (Lambda: its visibility)


class TileStore(Protocol):
    def upload(self, path: Path, bucket: str, key: str, content_type: str | None = None) -> None: ...
    def download(self, bucket: str, key: str, path: Path, etag: str | None = None) -> None: ...
    def delete(self, bucket: str, keys: list[str]) -> None: ...


@dataclass(frozen=True)
class Stitched:
    """A frame made from its tiles, ready to flow on as a rendered frame does."""

    path: Path
    seconds: float  # its tiles' render seconds, summed
    tiles_billed_s: float  # what its tiles' records added to the job already
    keys: list[str]  # the tiles in the bucket, to delete once the frame is recorded


class Tiler:
    """Keeps tiles and stitches frames for the render worker."""

    def __init__(
        self,
        jobs: JobStore,
        reporter: JobLifecycle,
        store: TileStore,
        work_dir: Path,
        stitch_lease_s: float = STITCH_LEASE_S,
    ) -> None:
        self.jobs = jobs
        self.stitch_lease_s = stitch_lease_s  # the settings' (locally: a third of the visibility timeout)
        self.reporter = reporter
        self.store = store
        self.work_dir = work_dir

    def keep(
        self, task: RenderTask, frame: int, written: Path, cut: Cut, seconds: float, billed_s: float
    ) -> bool:
        """Upload the tile (and its picture through the view transform, for EXR) and record it; True if this call
        counted it."""
        assert task.tile is not None
        key = task.tile_key(frame, task.tile, written.suffix)
        self.store.upload(written, task.output_bucket, key)
        proxy_key = ""
        picture = proxy_path(written)
        if picture.exists():
            proxy_key = task.tile_key(frame, task.tile, written.suffix, proxy=True)
            self.store.upload(picture, task.output_bucket, proxy_key)
            picture.unlink(missing_ok=True)
        written.unlink(missing_ok=True)
        record = TileRecord(
            task.tile,
            FrameOutcome.DONE,
            seconds=seconds,
            billed_s=billed_s,
            output_key=key,
            proxy_key=proxy_key,
            cut=cut.to_text(),
        )
        return self.reporter.tile_done(task.job_id, frame, record).counted

    def stitch_if_last(self, task: RenderTask, frame: int, out_stem: Path) -> Stitched | None:
        """The frame from its tiles when every tile is in and this caller wins the claim to stitch it; else None
        (another worker stitches it, or tiles are still rendering)."""
        records = [
            record for record in self.jobs.tiles(task.job_id, frame) if record.outcome is FrameOutcome.DONE
        ]
        if len(records) < tile_count(task.settings.tiles):
            return None  # the last tile's worker stitches it
        if not self.jobs.claim_stitch(task.job_id, frame, self.stitch_lease_s):
            # Someone holds the stitch (two last tiles at once, or one that died mid-stitch): this task comes back
            # after its visibility timeout, when the frame is recorded — or the lease has run out and it stitches.
            raise StitchPending(f"frame {frame}'s stitch is claimed by another worker", self.stitch_lease_s)
        cut = Cut.from_text(records[0].cut)
        folder = under(self.work_dir / "tiles", f"{task.job_id}/{frame:08d}", "The task's job")
        tiles, pictures = [], []
        for record in records:
            path = under(folder, record.output_key.rsplit("/", 1)[-1], "A tile's name")
            self.store.download(task.output_bucket, record.output_key, path)
            tiles.append(path)
            if record.proxy_key:
                picture = under(folder, record.proxy_key.rsplit("/", 1)[-1], "A tile's name")
                self.store.download(task.output_bucket, record.proxy_key, picture)
                pictures.append(picture)
        out = Path(f"{out_stem}_{frame:04d}{cut.suffix or tiles[0].suffix}")
        stitch(cut, tiles, out)
        if len(pictures) == len(tiles):
            stitch(Cut(cut.width, cut.height, cut.grid, cut.overscan), pictures, proxy_path(out))
        for path in tiles + pictures:
            path.unlink(missing_ok=True)
        logger.info("frame stitched from its tiles", job_id=task.job_id, frame=frame, tiles=len(tiles))
        keys = [record.output_key for record in records] + [r.proxy_key for r in records if r.proxy_key]
        return Stitched(
            path=out,
            seconds=sum(record.seconds for record in records),
            tiles_billed_s=sum(record.billed_s for record in records),
            keys=keys,
        )

    def clean(self, task: RenderTask, stitched: Stitched) -> None:
        """The tiles of a recorded frame leave the bucket (what a crash leaves, the bucket's lifecycle takes)."""
        try:
            self.store.delete(task.output_bucket, stitched.keys)
        except Exception as error:  # the frame is recorded: a left-over tile costs cents, not a frame
            logger.warning("tiles left in the bucket", job_id=task.job_id, error=str(error))
