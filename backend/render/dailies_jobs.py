"""A job's dailies movie (`backend.render.dailies` encodes it): which proxy shows each frame (the job's, or a
retry's), fetched one at a time, and the burn-in's shot and date."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Protocol

from backend.names import under
from backend.render.dailies import BurnIn, Movie, MovieFrame, encode_movie
from backend.render.frames import stored_frames
from backend.render.movie_grammar import job_fps
from backend.render.records import Job
from backend.render.tasks import PROXIES


class ProxyDownloader(Protocol):
    def download(self, bucket: str, key: str, path: Path, etag: str | None = None) -> None: ...


class Listed(Protocol):
    @property
    def key(self) -> str: ...


class ProxyLister(Protocol):
    def list_prefix(self, bucket: str, prefix: str) -> Sequence[Listed]: ...


def proxies_of(store: ProxyLister, jobs: Sequence[Job]) -> dict[int, str]:
    """Each frame's proxy among `jobs`' outputs, a later job's (a retry's) over an earlier one's gap."""
    found: dict[int, str] = {}
    for job in jobs:
        prefix = job.output_prefix + PROXIES
        found |= proxy_frames((item.key for item in store.list_prefix(job.output_bucket, prefix)), prefix)
    return found


def proxy_frames(keys: Iterable[str], proxies_prefix: str) -> dict[int, str]:
    """Each frame's own proxy by frame number (`…/proxies/shot_0042.png` → 42); view layers' proxies left out."""
    found = {}
    for key in keys:
        name = key.removeprefix(proxies_prefix)
        number = name.removesuffix(".png").rsplit("_", 1)[-1]
        if "/" not in name and name.endswith(".png") and number.isascii() and number.isdigit():
            found[int(number)] = key
    return found


def job_frames(
    store: ProxyDownloader,
    bucket: str,
    proxies: Mapping[int, str],
    numbers: Sequence[int],
    failed: Mapping[int, str],
    scratch: Path,
) -> Iterator[MovieFrame]:
    """The job's frames in `numbers`' order, each proxy downloaded into `scratch` as it is needed and removed once
    the next is asked for: one on disk at a time. A frame without a proxy is a slate (why it failed, if it did)."""
    for number in numbers:
        key = proxies.get(number)
        if key is None:
            failure = (failed.get(number) or "no reason given") if number in failed else ""
            yield MovieFrame(number, failure=failure)
            continue
        path = under(scratch, f"proxy_{number:08d}.png", "A proxy's name")
        store.download(bucket, key, path)
        try:
            yield MovieFrame(number, path)
        finally:
            path.unlink(missing_ok=True)


def shot_name(scene_key: str, scenes_prefix: str = "scenes/") -> str:
    """The shot as the burn-in names it: `scenes/sh010/shot.blend` → `sh010/shot`."""
    return scene_key.removeprefix(scenes_prefix).removesuffix(".blend")


def movie_file_name(job_id: str) -> str:
    """The movie's file name, in the thread and in `renders/<job>/`."""
    return f"{job_id}_dailies.mp4"


def job_movie(
    store: ProxyDownloader,
    job: Job,
    proxies: Mapping[int, str],
    failed: Mapping[int, str],
    out: Path,
    fps: Fraction | None = None,
    frames: Sequence[int] | None = None,
) -> Movie:
    """The dailies of `job` (or of `frames` of it) at `fps` (default: the scene's), from each frame's proxy in
    `proxies` (`proxy_frames`, `proxies_of`), each failed frame a slate saying why; written to `out`."""
    numbers = list(frames) if frames is not None else stored_frames(job.frames_spec)
    day = datetime.fromtimestamp(job.finished_at or job.created_at, UTC).strftime("%Y-%m-%d")
    burn = BurnIn(shot_name(job.scene_key), job.job_id, day)
    with tempfile.TemporaryDirectory(prefix="studiobot-dailies-") as scratch:
        pictures = job_frames(store, job.output_bucket, proxies, numbers, failed, Path(scratch))
        return encode_movie(pictures, len(numbers), out, burn, fps or job_fps(job))
