"""`/render movie JOB [--fps N] [--frames SPEC]`: its grammar, and what the desk decides before a movie is made."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest

from backend.config import Limits
from backend.errors import ValidationError
from backend.render.desk_movie import movie_asked
from backend.render.grammar import JobCommand, parse_command
from backend.render.movie_grammar import MovieRequest, parse_movie
from backend.render.records import FrameOutcome, FrameRecord, Job, JobStatus
from backend.render.tasks import RenderSettings


def test_the_movie_subcommand_names_its_job_rate_and_frames() -> None:
    command = parse_command(["movie", "r1a2b3c4d5", "--fps", "23.976", "--frames", "1-48"])
    assert command == JobCommand(
        "movie", "r1a2b3c4d5", movie=MovieRequest("r1a2b3c4d5", Fraction(24000, 1001), "1-48")
    )
    assert parse_command(["MOVIE", "r1"]) == JobCommand("movie", "r1", movie=MovieRequest("r1"))
    assert parse_movie(["r1", "--fps=12", "--frames=1-10x2"]) == MovieRequest("r1", Fraction(12), "1-10x2")


@pytest.mark.parametrize(
    ("words", "said"),
    [
        ([], "Say which job's movie to make, e.g. `/render movie r1a2b3c4d5`"),
        (["r1", "r2"], "Say which job's movie to make"),
        (
            ["r1", "--fps", "fast"],
            "`--fps fast` is not a frame rate: give one from 1 to 240, e.g. `--fps 24`",
        ),
        (["r1", "--fps", "0"], "`--fps 0` is not a frame rate"),
        (["r1", "--fps"], "`--fps` needs a value"),
        (["r1", "--frames", "240-1x-2"], "240-1x-2"),
        (["r1", "--frames", "abc"], "abc"),
        (["r1", "--res", "64x36"], "`--res` is not an option of `movie`. Usage: `/render movie JOB"),
        (["r1", "--fps", "24", "--fps", "25"], "`--fps` is given twice"),
    ],
)
def test_a_mistake_in_the_words_is_one_sentence_saying_what_works(words: list[str], said: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_command(["movie", *words])
    assert said in str(refused.value) and "\n" not in str(refused.value)


def _job(**changes: object) -> Job:
    values: dict[str, object] = {
        "job_id": "r1",
        "status": JobStatus.DONE,
        "scene_bucket": "scenes",
        "scene_key": "scenes/sh010/shot.blend",
        "scene_etag": "e",
        "frames_spec": "1-10",
        "total": 10,
        "task_count": 10,
        "settings": RenderSettings(),
        "output_bucket": "outputs",
        "output_prefix": "outputs/r1/",
        "done": 8,
        "failed": 2,
    }
    return Job(**(values | changes))  # type: ignore[arg-type]


class Records:
    def __init__(self, *retries: Job) -> None:
        self.retries = list(retries)

    def frames(self, job_id: str) -> list[FrameRecord]:
        if job_id == "r1":
            return [
                FrameRecord(3, FrameOutcome.FAILED, error="out of memory"),
                FrameRecord(7, FrameOutcome.FAILED, error="texture missing"),
                FrameRecord(1, FrameOutcome.DONE),
            ]
        if job_id == "r2":  # the retry of r1's failed frames: 3 rendered, 7 failed again
            return [
                FrameRecord(3, FrameOutcome.DONE),
                FrameRecord(7, FrameOutcome.FAILED, error="still missing"),
            ]
        return []

    def recent(self, channel: str, limit: int = 20) -> list[Job]:
        return [*self.retries, _job(job_id="r9", retry_of="r8")]  # newest first; r9 retries another job


def test_the_movie_shows_every_frame_of_the_job_with_why_the_failed_ones_failed() -> None:
    asked = movie_asked(Records(), _job(), MovieRequest("r1"), "U0ARTIST", Limits())
    assert asked.frames == tuple(range(1, 11)) and asked.fps == 24
    assert asked.failed == {3: "out of memory", 7: "texture missing"} and asked.by == "U0ARTIST"
    ranged = movie_asked(Records(), _job(), MovieRequest("r1", Fraction(12), "5-8"), "U0ARTIST", Limits())
    assert ranged.frames == (5, 6, 7, 8) and ranged.fps == 12 and ranged.failed == {7: "texture missing"}


def test_frames_the_job_did_not_render_or_a_job_with_none_yet_are_refused_saying_what_works() -> None:
    with pytest.raises(ValidationError) as refused:
        movie_asked(Records(), _job(), MovieRequest("r1", None, "5-20"), "U0ARTIST", Limits())
    assert str(refused.value) == (
        "`r1` did not render 11-20: its frames are `1-10`, e.g. `/render movie r1 --frames 1-10`."
    )
    with pytest.raises(ValidationError) as nothing:
        movie_asked(
            Records(), replace(_job(), done=0, status=JobStatus.RUNNING), MovieRequest("r1"), "U", Limits()
        )
    assert "`r1` has no rendered frame yet" in str(nothing.value)


def test_the_movie_runs_at_the_scenes_rate_as_its_renderer_read_it_unless_asked_otherwise() -> None:
    ntsc = movie_asked(Records(), _job(fps="23.976"), MovieRequest("r1"), "U0ARTIST", Limits())
    assert ntsc.fps == Fraction(24000, 1001)
    assert movie_asked(Records(), _job(fps="25"), MovieRequest("r1", Fraction(12)), "U", Limits()).fps == 12
    assert movie_asked(Records(), _job(fps=""), MovieRequest("r1"), "U", Limits()).fps == 24  # not said: 24


def test_a_retried_jobs_movie_shows_the_frames_its_retries_rendered() -> None:
    retry = _job(job_id="r2", retry_of="r1", frames_spec="3,7", created_at=5.0, output_prefix="outputs/r2/")
    asked = movie_asked(Records(retry), _job(), MovieRequest("r1"), "U0ARTIST", Limits())
    assert asked.retries == (retry,) and asked.frames == tuple(range(1, 11))
    assert asked.failed == {7: "still missing"}  # 3 is the retry's picture now; 7 says why it failed last
