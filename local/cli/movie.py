"""`studiobot render movie JOB [--fps N] [--frames SPEC]`, and the movie beside the frames a render downloads: the
dailies movie written to `renders/<job>/`, made as the thread's is (`backend.render.dailies`)."""

from __future__ import annotations

from pathlib import Path

from backend.errors import StudiobotError
from backend.names import under
from backend.render.dailies import Movie
from backend.render.dailies_jobs import job_movie, movie_file_name, proxies_of
from backend.render.desk_replies import MovieAsked
from backend.render.grammar import JobCommand
from backend.render.movie_grammar import MovieRequest
from entry.wiring import Services
from local.cli.desk import terminal_caller
from local.cli.terminal import console


def write_movie(services: Services, asked: MovieAsked, out: Path) -> Movie:
    """Make the movie `asked` into `out/<job>/<job>_dailies.mp4`, streamed from the job's proxies."""
    job = asked.job
    store = services.store
    proxies = proxies_of(store, (job, *asked.retries))  # a frame a retry rendered, from the retry
    path = under(out, f"{job.job_id}/{movie_file_name(job.job_id)}", "The job's id")
    return job_movie(store, job, proxies, asked.failed, path, asked.fps, asked.frames)


def finished_movie(services: Services, job_id: str, out: Path) -> Path | None:
    """The whole job's movie beside its downloaded frames (printed as `Movie: …`), asked of the desk as
    `/render movie JOB` is; None when it has no rendered frame."""
    words = ["movie", job_id]
    try:
        asked = services.desk.run(
            JobCommand("movie", job_id, movie=MovieRequest(job_id)), terminal_caller(words)
        )
    except StudiobotError:
        return None
    if not isinstance(asked, MovieAsked):
        return None
    movie = write_movie(services, asked, out)
    console.print(f"Movie: {movie.path}")
    return movie.path
