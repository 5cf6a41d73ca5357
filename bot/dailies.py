"""The dailies movie for a job's thread (`backend.render.dailies` makes it), or None where none can be made."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from aws_lambda_powertools import Logger

from backend.aws.s3 import ObjectInfo
from backend.names import under
from backend.render.dailies import ProxyDownloader, job_movie, movie_file_name
from backend.render.records import Job

logger = Logger(service="studiobot-notifier")


def thread_movie(
    store: ProxyDownloader,
    job: Job,
    proxies: Sequence[ObjectInfo],
    failed: Sequence[int],
    reasons: dict[int, str],
    folder: Path,
) -> Path | None:
    """The job's movie in `folder`, streamed from every proxy, each failed frame a slate with its reason; None
    (the thread gets the GIF instead) only where no movie can be made: PyAV missing, or ffmpeg failing."""
    try:
        out = under(folder, movie_file_name(job.job_id))
        failures = {frame: reasons.get(frame, "") for frame in failed}
        return job_movie(store, job, (item.key for item in proxies), failures, out).path
    except Exception as error:  # the thread still gets a moving preview, and the log says why not a movie
        logger.warning("no dailies movie: a GIF instead", job_id=job.job_id, error=repr(error))
        return None
