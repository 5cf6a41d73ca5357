"""`/render movie JOB`: which frames of a job its movie shows, at which rate, and why its failed ones failed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from backend.config import Limits
from backend.errors import ValidationError
from backend.render.desk_replies import MovieAsked
from backend.render.frames import compact, parse_frame_spec, stored_frames
from backend.render.movie_grammar import MovieRequest, job_fps
from backend.render.records import FrameOutcome, FrameRecord, Job


class MovieJobs(Protocol):
    """What a movie reads of the job store: the records of a job's frames, and a channel's recent jobs (its
    retries)."""

    def frames(self, job_id: str) -> list[FrameRecord]: ...
    def recent(self, channel: str, limit: int = 20) -> list[Job]: ...


def retries_of(jobs: MovieJobs, job: Job) -> list[Job]:
    """The retries of `job` (and their retries), oldest first, among its channel's recent jobs."""
    family, found = {job.job_id}, []
    for candidate in sorted(jobs.recent(job.channel), key=lambda other: other.created_at):
        if candidate.retry_of in family:
            family.add(candidate.job_id)
            found.append(candidate)
    return found


def movie_asked(
    jobs: MovieJobs,
    job: Job,
    request: MovieRequest,
    user: str,
    limits: Limits,
    retries: Sequence[Job] | None = None,
) -> MovieAsked:
    """The movie `request` asks of `job` (all of its frames unless `--frames`), with its `retries` (None: looked for
    in its channel); ValidationError saying what works when it has nothing rendered yet or the frames are not the
    job's."""
    if job.done == 0:
        raise ValidationError(
            f"`{job.job_id}` has no rendered frame yet: ask for its movie once frames are in "
            f"(`/render status {job.job_id}` shows them)."
        )
    every = stored_frames(job.frames_spec)
    frames = every
    if request.frames is not None:
        frames = parse_frame_spec(request.frames, limits.max_frames_per_job)
        outside = sorted(set(frames) - set(every))
        if outside:
            shown = compact(outside)
            shown = shown if len(shown) <= 60 else shown[:57] + "…"
            raise ValidationError(
                f"`{job.job_id}` did not render {shown}: its frames are `{compact(every)[:60]}`, e.g. "
                f"`/render movie {job.job_id} --frames {every[0]}-{every[min(len(every), 24) - 1]}`."
            )
    wanted = set(frames)
    if retries is None:
        retries = retries_of(jobs, job) if job.failed else []
    failed: dict[int, str] = {}
    for each in (job, *retries):  # a frame a later retry rendered is no slate; one it failed again says why
        for record in jobs.frames(each.job_id):
            if record.frame not in wanted:
                continue
            if record.outcome is FrameOutcome.FAILED:
                failed[record.frame] = record.error
            elif record.outcome is FrameOutcome.DONE:
                failed.pop(record.frame, None)
    return MovieAsked(job, tuple(frames), request.fps or job_fps(job), failed, user, tuple(retries))
