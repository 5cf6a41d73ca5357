"""The dailies movie in a job's thread (`backend.render.dailies` makes it): when the job ends, and again when
`/render movie JOB` asks."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from aws_lambda_powertools import Logger
from slack_sdk import WebClient

from backend.aws.s3 import ObjectInfo
from backend.commands import Caller
from backend.names import under
from backend.render.dailies_jobs import ProxyDownloader, job_movie, movie_file_name, proxies_of, proxy_frames
from backend.render.desk_replies import MovieAsked
from backend.render.records import Job
from backend.render.tasks import PROXIES
from bot.messages.render_replies import movie_line
from bot.messages.text import slack_person
from bot.services import Services

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
        prefix = job.output_prefix + PROXIES
        return job_movie(store, job, proxy_frames((item.key for item in proxies), prefix), failures, out).path
    except Exception as error:  # the thread still gets a moving preview, and the log says why not a movie
        logger.warning("no dailies movie: a GIF instead", job_id=job.job_id, error=repr(error))
        return None


def post_movie(client: WebClient | None, services: Services, asked: MovieAsked, caller: Caller) -> str:
    """Make the movie `/render movie` asked for and post it in the job's thread (where its card has none: where it
    was asked); what to tell whoever asked."""
    from bot.cards import card_store  # loads boto3: after the ack only

    job = asked.job
    if client is None:
        return f"Ask for it with `/render movie {job.job_id}`: it is made in the job's thread."
    store = services.store
    proxies = proxies_of(store, (job, *asked.retries))  # a frame a retry rendered, from the retry
    card = card_store(services).card(job.job_id)
    channel, thread = (card.channel, card.ts) if card is not None else (caller.channel, None)
    with tempfile.TemporaryDirectory(prefix="studiobot-movie-") as folder:
        out = under(Path(folder), movie_file_name(job.job_id))
        movie = job_movie(store, job, proxies, asked.failed, out, asked.fps, asked.frames)
        client.files_upload_v2(
            channel=channel,
            thread_ts=thread,
            initial_comment=f"🎬 {movie_line(asked)}, asked by {slack_person(asked.by)}.",
            file_uploads=[
                {"file": str(movie.path), "filename": out.name, "title": f"Dailies · {job.job_id}"}
            ],
        )
    return f"🎬 The movie of `{job.job_id}` is in {'its thread' if thread else 'this channel'}."
