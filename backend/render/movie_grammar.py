"""`/render movie JOB [--fps N] [--frames SPEC]`: the dailies movie of a job made again (a retried job, a range)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from backend.config import Limits
from backend.errors import ValidationError
from backend.render.frames import check_frame_spec
from backend.render.records import Job

MOVIE_USAGE = (
    "`/render movie JOB [--fps N] [--frames SPEC]`, e.g. `/render movie r1a2b3c4d5 --fps 24 --frames 1-48`"
)
_MOVIE_OPTIONS = ("--fps", "--frames")
DEFAULT_FPS = Fraction(24)  # a job rendered before its renderer said the scene's frame rate


@dataclass(frozen=True)
class MovieRequest:
    """Which job's movie, at which frame rate (None: the scene's) and of which frames (None: all of the job's)."""

    job_id: str
    fps: Fraction | None = None
    frames: str | None = None


def parse_fps(text: str) -> Fraction:
    """`24`, `23.976`, `24000/1001` → a frame rate; ValueError for anything that is not 1 to 240."""
    try:
        fps = Fraction(text.strip()).limit_denominator(1001)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"`{text}` is not a frame rate") from None
    if not 1 <= fps <= 240:
        raise ValueError(f"`{text}` is not a frame rate from 1 to 240")
    # `23.976` is 24000/1001, as Blender keeps it (fps 24, fps_base 1.001)
    ntsc = Fraction(round(fps * Fraction(1001, 1000)) * 1000, 1001)
    return ntsc if abs(ntsc - fps) < Fraction(1, 1000) else fps


def job_fps(job: Job) -> Fraction:
    """The job's scene's frame rate as its renderer read it; `DEFAULT_FPS` where it did not say."""
    try:
        return parse_fps(job.fps) if job.fps else DEFAULT_FPS
    except ValueError:
        return DEFAULT_FPS


def parse_movie(words: Sequence[str], limits: Limits | None = None) -> MovieRequest:
    """Parse the words after `movie`; ValidationError saying what works."""
    limits = limits or Limits()
    positional: list[str] = []
    options: dict[str, str] = {}
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if not word.startswith("--"):
            positional.append(word)
            continue
        name, has_value, value = word.partition("=")
        if name not in _MOVIE_OPTIONS:
            raise ValidationError(f"`{name}` is not an option of `movie`. Usage: {MOVIE_USAGE}.")
        if not has_value:
            if index >= len(words) or words[index].startswith("--"):
                raise ValidationError(f"`{name}` needs a value. Usage: {MOVIE_USAGE}.")
            value, index = words[index], index + 1
        if name in options:
            raise ValidationError(f"`{name}` is given twice: give it once.")
        options[name] = value
    if len(positional) != 1:
        raise ValidationError(
            f"Say which job's movie to make, e.g. `/render movie r1a2b3c4d5` (`/render list` shows them). "
            f"Usage: {MOVIE_USAGE}."
        )
    fps = None
    if "--fps" in options:
        try:
            fps = parse_fps(options["--fps"])
        except ValueError:
            raise ValidationError(
                f"`--fps {options['--fps']}` is not a frame rate: give one from 1 to 240, e.g. `--fps 24` or "
                "`--fps 23.976`."
            ) from None
    frames = options.get("--frames")
    if frames is not None:
        check_frame_spec(frames, limits.max_frames_per_job)
    return MovieRequest(positional[0], fps, frames)
