"""The dailies movie in a job's thread (`backend.render.dailies` makes it): when the job ends, and again when
`/render movie JOB` asks (the bot hands that to the notifier as a `MovieRequested` event)."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path

from aws_lambda_powertools import Logger
from slack_sdk import WebClient

from backend.aws.s3 import ObjectInfo
from backend.commands import Caller
from backend.events import MovieRequested
from backend.names import under
from backend.render.dailies_jobs import ProxyDownloader, job_movie, movie_file_name, proxies_of, proxy_frames
from backend.render.desk_movie import movie_asked
from backend.render.desk_replies import MovieAsked
from backend.render.frames import compact
from backend.render.movie_grammar import MovieRequest, parse_fps
from backend.render.previews import animated_preview
from backend.render.records import Job
from backend.render.tasks import PROXIES
from bot.messages.render_replies import movie_line
from bot.messages.text import slack_person
from bot.services import Services

logger = Logger(service="studiobot-notifier")


def thread_preview(
    store: ProxyDownloader,
    job: Job,
    proxies: Sequence[ObjectInfo],
    failed: Sequence[int],
    reasons: dict[int, str],
    sheet: Sequence[Path],
    folder: Path,
) -> Path:
    """The job's movie in `folder`, streamed from every proxy, each failed frame a slate with its reason; only where
    no movie can be made (PyAV missing, ffmpeg failing) a GIF of the contact sheet's pictures (`sheet`)."""
    try:
        out = under(folder, movie_file_name(job.job_id))
        failures = {frame: reasons.get(frame, "") for frame in failed}
        prefix = job.output_prefix + PROXIES
        return job_movie(store, job, proxy_frames((item.key for item in proxies), prefix), failures, out).path
    except Exception as error:  # the thread still gets a moving preview, and the log says why not a movie
        logger.warning("no dailies movie: a GIF instead", job_id=job.job_id, error=repr(error))
        return animated_preview(sheet, under(folder, f"{job.job_id}_preview.gif"))


def ask_for_movie(services: Services, asked: MovieAsked, caller: Caller) -> str:
    """Hand the movie `/render movie` asked for to the notifier (which has the time and memory to make a long one)
    as an event; what to tell whoever asked."""
    request = MovieRequested(
        job_id=asked.job.job_id,
        request_id=uuid.uuid4().hex[:16],
        by=asked.by,
        channel=caller.channel,
        fps=str(asked.fps),
        frames=compact(asked.frames),
        retries=[retry.job_id for retry in asked.retries],
    )
    services.events.publish(request)
    return f"🎬 The movie of `{asked.job.job_id}` is being made: it comes in the job's thread."


def post_movie(client: WebClient, services: Services, request: MovieRequested) -> None:
    """Make the movie a `MovieRequested` asks for and post it in the job's thread (where the job has no card: where
    it was asked), once per asking; checked again against the job as it is now."""
    from bot.cards import card_store  # loads boto3: after the ack only

    if not services.announcer.first_telling_of(request.job_id, f"movie_{request.request_id}"):
        return  # another delivery of this asking made it
    try:
        asked = movie_asked(
            services.jobs,
            services.jobs.get(request.job_id),
            MovieRequest(
                request.job_id, parse_fps(request.fps) if request.fps else None, request.frames or None
            ),
            request.by,
            services.settings.limits,
            [services.jobs.get(retry) for retry in request.retries],
        )
        job, store = asked.job, services.store
        proxies = proxies_of(store, (job, *asked.retries))  # a frame a retry rendered, from the retry
        card = card_store(services).card(job.job_id)
        channel, thread = (card.channel, card.ts) if card is not None else (request.channel, None)
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
    except Exception:
        services.announcer.jobs.release_notice(
            request.job_id, f"movie_{request.request_id}"
        )  # SNS tries again
        raise
