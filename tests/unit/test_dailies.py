"""The dailies movie: an H.264 MP4 PyAV reads back with the right frames, size and rate, burnt in, with slates."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import pytest
from PIL import Image

from backend.render.dailies import (
    MAX_BYTES,
    MAX_WIDTH,
    BurnIn,
    MovieFrame,
    bar_height,
    bitrate_for,
    encode_movie,
    movie_size,
)
from backend.render.dailies_jobs import job_frames, proxy_frames
from backend.render.movie_grammar import parse_fps

BURN = BurnIn("sh010/shot", "r1a2b3c4d5", "2026-12-08")
SKY = (40, 120, 200)


def _proxies(folder: Path, count: int, size: tuple[int, int] = (640, 360)) -> list[Path]:
    paths = []
    for number in range(1, count + 1):
        path = folder / f"shot_{number:04d}.png"
        Image.new("RGB", size, SKY).save(path)
        paths.append(path)
    return paths


def _decoded(path: Path) -> tuple[av.video.stream.VideoStream, list[Image.Image]]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        pictures = [frame.to_image() for frame in container.decode(stream)]
        return stream, pictures


def _close(pixel: tuple[int, ...], colour: tuple[int, int, int], by: int = 12) -> bool:
    return all(abs(a - b) <= by for a, b in zip(pixel, colour, strict=False))


@pytest.mark.parametrize("fps", [Fraction(24), Fraction(25), Fraction(24000, 1001)])
def test_the_movie_reads_back_with_every_frame_its_size_and_the_scenes_rate(
    tmp_path: Path, fps: Fraction
) -> None:
    frames = [MovieFrame(number, path) for number, path in enumerate(_proxies(tmp_path, 12), start=1)]
    movie = encode_movie(iter(frames), 12, tmp_path / "dailies.mp4", BURN, fps)
    with av.open(str(movie.path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.width, stream.height) == (640, 360) == (movie.width, movie.height)
        assert stream.average_rate == fps
        assert sum(1 for _ in container.decode(stream)) == 12 == movie.frames
    data = movie.path.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # +faststart: it plays before it has all arrived
    assert movie.bytes == len(data)


def test_each_frame_is_burnt_in_along_its_bottom_and_the_picture_is_left_alone(tmp_path: Path) -> None:
    frames = [MovieFrame(number, path) for number, path in enumerate(_proxies(tmp_path, 3), start=41)]
    movie = encode_movie(iter(frames), 3, tmp_path / "dailies.mp4", BURN)
    _, pictures = _decoded(movie.path)
    picture = pictures[1].convert("RGB")
    bar = bar_height(360)
    assert bar >= 16 and bar / 2 >= 14  # a line tall enough to read at half size
    assert _close(picture.getpixel((320, 150)), SKY)  # the picture itself
    band = picture.crop((0, 360 - bar, 640, 360))
    dark = [pixel for pixel in band.get_flattened_data() if max(pixel) < 60]
    ink = [pixel for pixel in band.get_flattened_data() if min(pixel) > 180]
    assert len(dark) > 0.6 * bar * 640 and len(ink) > 100  # a dark bar with light words on it
    left, right = band.crop((0, 0, 320, bar)), band.crop((320, 0, 640, bar))
    assert any(min(pixel) > 180 for pixel in left.get_flattened_data())  # shot and frame number
    assert any(min(pixel) > 180 for pixel in right.get_flattened_data())  # job and date
    above = picture.crop((0, 360 - bar - 8, 640, 360 - bar - 2))
    assert all(_close(pixel, SKY, 24) for pixel in above.get_flattened_data())


def test_the_burn_in_names_the_frame_so_two_frames_bars_differ(tmp_path: Path) -> None:
    frames = [MovieFrame(number, path) for number, path in zip((7, 1042), _proxies(tmp_path, 2), strict=True)]
    movie = encode_movie(iter(frames), 2, tmp_path / "dailies.mp4", BURN)
    _, pictures = _decoded(movie.path)
    bar = bar_height(360)
    first, second = (picture.convert("L").crop((0, 360 - bar, 320, 360)) for picture in pictures)
    assert first.tobytes() != second.tobytes()


def test_a_failed_frame_is_a_slate_in_its_place_so_the_cut_keeps_its_length(tmp_path: Path) -> None:
    paths = _proxies(tmp_path, 4)
    frames = [
        MovieFrame(1, paths[0]),
        MovieFrame(2, failure="Blender ran out of memory"),
        MovieFrame(3, paths[2]),
        MovieFrame(4),  # rendered, but no preview came
    ]
    movie = encode_movie(iter(frames), 4, tmp_path / "dailies.mp4", BURN)
    _, pictures = _decoded(movie.path)
    assert len(pictures) == 4
    slate = pictures[1].convert("RGB")
    assert not _close(slate.getpixel((20, 20)), SKY, 40) and _close(pictures[2].getpixel((20, 20)), SKY)
    middle = slate.crop((0, 140, 640, 200))
    assert any(min(pixel) > 180 for pixel in middle.get_flattened_data())  # its words, across the middle


def test_slates_before_the_first_picture_and_a_movie_of_slates_alone(tmp_path: Path) -> None:
    (path,) = _proxies(tmp_path, 1, (320, 180))
    frames = [MovieFrame(1, failure="out of time"), MovieFrame(2, failure="out of time"), MovieFrame(3, path)]
    movie = encode_movie(iter(frames), 3, tmp_path / "a.mp4", BURN)
    _, pictures = _decoded(movie.path)
    assert [picture.size for picture in pictures] == [(640, 360)] * 3  # scaled up: the burn-in stays legible
    alone = encode_movie(
        iter([MovieFrame(5, failure="x"), MovieFrame(6, failure="y")]), 2, tmp_path / "b.mp4", BURN
    )
    assert len(_decoded(alone.path)[1]) == 2


def test_the_picture_is_even_and_at_most_1920_wide(tmp_path: Path) -> None:
    assert movie_size(4001, 2251, 24, Fraction(24)) == (1920, 1080)
    assert movie_size(641, 361, 24, Fraction(24)) == (640, 360)
    (path,) = _proxies(tmp_path, 1, (643, 361))
    movie = encode_movie(iter([MovieFrame(1, path)]), 1, tmp_path / "odd.mp4", BURN)
    assert movie.width % 2 == 0 and movie.height % 2 == 0 and movie.width <= MAX_WIDTH


def test_a_long_job_gets_a_lower_bitrate_and_then_a_smaller_picture_and_stays_under_100_mb() -> None:
    for frames in (24, 2_000, 10_000, 100_000):
        for fps in (Fraction(1), Fraction(24), Fraction(60)):
            seconds = frames / float(fps)
            size = movie_size(1920, 1080, frames, fps)
            assert bitrate_for(frames, fps) * seconds / 8 < MAX_BYTES
            assert size[0] % 2 == 0 and size[1] % 2 == 0 and 320 <= size[0] <= MAX_WIDTH
    assert bitrate_for(24, Fraction(24)) > bitrate_for(10_000, Fraction(24))
    assert movie_size(1920, 1080, 10_000, Fraction(24)) < movie_size(1920, 1080, 24, Fraction(24))


def test_frame_rates_as_people_type_them() -> None:
    assert parse_fps("24") == 24 and parse_fps("23.976") == Fraction(24000, 1001)
    assert parse_fps("30000/1001") == Fraction(30000, 1001)
    for wrong in ("0", "-5", "fast", "1/0", "500"):
        with pytest.raises(ValueError):
            parse_fps(wrong)


class Store:
    """Proxies by key; records what is on the scratch disk at each download."""

    def __init__(self, folder: Path, scratch: Path) -> None:
        self.folder, self.scratch = folder, scratch
        self.on_disk: list[int] = []

    def download(self, bucket: str, key: str, path: Path, etag: str | None = None) -> None:
        self.on_disk.append(len(list(self.scratch.iterdir())))
        Image.new("RGB", (64, 36), SKY).save(path)


def test_proxies_are_fetched_one_at_a_time_and_removed_after_use(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    store = Store(tmp_path, scratch)
    keys = [f"outputs/j/proxies/shot_{number:04d}.png" for number in range(1, 31) if number != 7]
    keys.append("outputs/j/proxies/layers/01-Fore/shot_0001.png")  # a view layer's: not the frame's own
    proxies = proxy_frames(keys, "outputs/j/proxies/")
    assert len(proxies) == 29 and 7 not in proxies
    frames = job_frames(store, "b", proxies, list(range(1, 31)), {7: "crashed"}, scratch)
    movie = encode_movie(frames, 30, tmp_path / "dailies.mp4", BURN)
    assert movie.frames == 30 and max(store.on_disk) == 0 and not list(scratch.iterdir())


def test_where_no_movie_can_be_made_the_thread_gets_a_gif_instead(tmp_path: Path) -> None:
    from backend.render.records import Job, JobStatus
    from backend.render.tasks import RenderSettings
    from bot.dailies import thread_preview

    class Broken:
        def download(self, bucket: str, key: str, path: Path, etag: str | None = None) -> None:
            raise OSError("the proxies cannot be read")

    @dataclass(frozen=True)
    class Item:
        key: str

    job = Job(
        "r1", JobStatus.DONE, "s", "scenes/shot.blend", "e", "1-2", 2, 2, RenderSettings(), "o", "outputs/r1/"
    )
    proxies = [Item(f"outputs/r1/proxies/shot_{number:04d}.png") for number in (1, 2)]
    sheet = _proxies(tmp_path, 2)
    preview = thread_preview(Broken(), job, proxies, [], {}, sheet, tmp_path)
    assert preview.name == "r1_preview.gif" and preview.read_bytes().startswith(b"GIF89a")
