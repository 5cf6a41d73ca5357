"""The dailies movie of a job: its frames' 8-bit proxies (already through the scene's view transform) streamed one at a
time into an H.264 MP4 (yuv420p, `+faststart`, PyAV), each frame burnt in with the shot, the frame number, the job
and the date; a failed frame is a slate saying why, so the cut keeps its length. No Slack here."""

from __future__ import annotations

import functools
import math
import textwrap
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw, ImageFont

from backend.render.movie_grammar import DEFAULT_FPS

if TYPE_CHECKING:
    from av.container import OutputContainer
    from av.video.stream import VideoStream

MAX_WIDTH = 1920  # Slack plays larger movies, but scaled down: wider buys nothing in a thread
MIN_WIDTH = 640  # smaller proxies are scaled up to it, so that the burn-in can be read
MAX_BYTES = 100 * 1000 * 1000  # what a movie posted in the thread may weigh
TARGET_BYTES = 90 * 1000 * 1000  # the bitrate aims below it: the container and x264's swings need room
MAX_BITRATE = 4_000_000  # bits/s: plenty for a proxy-sized picture; long jobs get less (`bitrate_for`)
MIN_BITS_PER_PIXEL = 0.04  # below this a frame turns to mush: a smaller picture instead
SLATE_SIZE = (640, 360)  # a movie of failed frames only: nothing tells a better size
BAR_INK = (240, 240, 240)
BAR_BACKGROUND = (16, 16, 20)
SLATE_BACKGROUND = (64, 16, 16)


@dataclass(frozen=True)
class BurnIn:
    """What every frame of the movie says in its bar: the shot, the job and the day it was made."""

    shot: str
    job_id: str
    date: str


@dataclass(frozen=True)
class MovieFrame:
    """One frame of the cut: its proxy, or why there is none (`failure`: the frame failed; neither: no preview)."""

    number: int
    picture: Path | None = None
    failure: str = ""


@dataclass(frozen=True)
class Movie:
    """A movie made: where, its frames, picture size, rate and weight, and how long it took."""

    path: Path
    frames: int
    width: int
    height: int
    fps: Fraction
    bytes: int
    seconds: float


def movie_size(width: int, height: int, frames: int, fps: Fraction) -> tuple[int, int]:
    """The picture size for `frames` frames of a `width`×`height` proxy: even, `MIN_WIDTH` to `MAX_WIDTH` wide,
    and halved while the bitrate a long job can afford would spread too thin over its pixels."""
    scale = min(MAX_WIDTH, max(MIN_WIDTH, width)) / width
    while True:
        size = (_even(width * scale), _even(height * scale))
        per_pixel = bitrate_for(frames, fps) / (size[0] * size[1] * float(fps))
        if per_pixel >= MIN_BITS_PER_PIXEL or size[0] <= MIN_WIDTH // 2:
            return size
        scale /= 2


def bitrate_for(frames: int, fps: Fraction) -> int:
    """The most bits a second the movie may use: `MAX_BITRATE`, less for a job so long that it would pass
    `TARGET_BYTES`."""
    seconds = max(frames, 1) / float(fps)
    return min(MAX_BITRATE, int(TARGET_BYTES * 8 / seconds))


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)


def encode_movie(
    frames: Iterable[MovieFrame], count: int, out: Path, burn: BurnIn, fps: Fraction = DEFAULT_FPS
) -> Movie:
    """Write the `count` frames, in order, as an H.264 MP4 at `fps`; one picture is open at a time, whatever
    `count`. The size is the first proxy's (slates before it wait, small, for it)."""
    import av  # ffmpeg's libraries: loaded only by what makes a movie

    started = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    waiting: list[MovieFrame] = []
    written = 0
    with av.open(str(out), mode="w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream = None
        size = SLATE_SIZE

        def put(frame: MovieFrame) -> None:
            nonlocal written
            picture = _picture(frame, size, burn)
            video = av.VideoFrame.from_image(picture)
            video.pts = written
            assert stream is not None
            container.mux(stream.encode(video))
            written += 1

        for frame in _pictures_first(frames, waiting):
            if stream is None:
                if frame.picture is not None:
                    with Image.open(frame.picture) as first:
                        size = movie_size(first.width, first.height, count, fps)
                stream = _video_stream(container, size, count, fps)
                for slate in waiting:
                    put(slate)
                waiting.clear()
            put(frame)
        if stream is None:
            raise ValueError("no frames to make a movie of")
        container.mux(stream.encode(None))
    return Movie(out, written, size[0], size[1], fps, out.stat().st_size, time.perf_counter() - started)


def _pictures_first(frames: Iterable[MovieFrame], waiting: list[MovieFrame]) -> Iterator[MovieFrame]:
    """The frames, with the slates before the first picture held in `waiting` (the stream's size is not known
    until a picture comes); when none comes, the last slate is yielded so that the stream opens."""
    seen_picture = False
    last: MovieFrame | None = None
    for frame in frames:
        if not seen_picture and frame.picture is None:
            waiting.append(frame)
            last = frame
            continue
        seen_picture = True
        yield frame
    if not seen_picture and last is not None:
        waiting.pop()
        yield last


def _video_stream(
    container: OutputContainer, size: tuple[int, int], count: int, fps: Fraction
) -> VideoStream:
    """The H.264 stream: yuv420p (every player), CRF quality capped by the job's bitrate budget."""
    stream = container.add_stream("libx264", rate=fps)
    stream.width, stream.height = size
    stream.pix_fmt = "yuv420p"
    stream.time_base = 1 / fps
    bitrate = bitrate_for(count, fps)
    stream.options = {
        "crf": "20",
        "preset": "superfast",
        "maxrate": str(bitrate),
        "bufsize": str(bitrate * 2),
        "threads": "2",  # a notifier has a core or two: more threads only add memory
    }
    return stream


def _picture(frame: MovieFrame, size: tuple[int, int], burn: BurnIn) -> Image.Image:
    """The frame as the movie shows it: its proxy fitted to `size` (or a slate), with the burn-in bar."""
    if frame.picture is not None:
        with Image.open(frame.picture) as proxy:
            picture = proxy.convert("RGB")
        if picture.size != size:  # up smoothly (a small proxy), down sharply (a long job's smaller cut)
            smaller = picture.width > size[0]
            picture = picture.resize(size, Image.Resampling.LANCZOS if smaller else Image.Resampling.BILINEAR)
    else:
        why = (
            f"frame {frame.number} failed: {frame.failure}"
            if frame.failure
            else f"frame {frame.number}: no preview"
        )
        picture = slate(size, why)
    return burn_in(picture, frame.number, burn)


def bar_height(height: int) -> int:
    """The burn-in bar's height: a twelfth of the picture, never under 16 px (its words readable at half size)."""
    return max(16, round(height / 12))


@functools.cache
def _font(pixels: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(8, pixels))


def burn_in(picture: Image.Image, number: int, burn: BurnIn) -> Image.Image:
    """`picture` with a dark bar along its bottom: the shot and frame number on the left, the job and date on the
    right, in a font about two thirds of the bar."""
    width, height = picture.size
    bar = bar_height(height)
    draw = ImageDraw.Draw(picture)
    draw.rectangle((0, height - bar, width, height), fill=BAR_BACKGROUND)
    font = _font(round(bar * 0.7))
    left, right = f"{burn.shot}  ·  frame {number}", f"{burn.job_id}  ·  {burn.date}"
    middle = height - bar / 2
    margin = max(4, bar // 3)
    draw.text((margin, middle), left, font=font, fill=BAR_INK, anchor="lm")
    if draw.textlength(left, font=font) + draw.textlength(right, font=font) + 3 * margin < width:
        draw.text((width - margin, middle), right, font=font, fill=BAR_INK, anchor="rm")
    return picture


def slate(size: tuple[int, int], text: str) -> Image.Image:
    """A plain card saying `text` (a failed frame's reason), wrapped to fit, where the frame would be."""
    width, height = size
    picture = Image.new("RGB", size, SLATE_BACKGROUND)
    draw = ImageDraw.Draw(picture)
    font = _font(max(10, round(height / 16)))
    per_line = max(12, math.floor(width / max(1.0, draw.textlength("n", font=font))) - 4)
    lines = textwrap.wrap(_drawable(text), per_line)[:6]
    draw.multiline_text(
        (width / 2, (height - bar_height(height)) / 2),
        "\n".join(lines),
        font=font,
        fill=BAR_INK,
        anchor="mm",
        align="center",
    )
    return picture


def _drawable(text: str) -> str:
    """The text without characters the built-in font draws as boxes (control characters, emoji)."""
    return "".join(char if char.isprintable() and ord(char) < 0x2500 else "?" for char in text)
