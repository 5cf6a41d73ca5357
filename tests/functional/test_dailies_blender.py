"""The dailies of an EXR shot rendered by real Blender (32×18): the movie shows each frame through the scene's view
transform (its proxy, as the artist sees it in Blender, not the linear EXR), at the scene's own frame rate."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from testing.slack import FakeSlack

from .conftest import Stack, build_with_bpy
from .test_layer_previews import _render_and_announce

pytestmark = pytest.mark.bpy

WOOD_SRGB = (140, 89, 38)  # the texture's 8-bit colour, what the `Standard` view transform shows of it
WOOD_LINEAR = (66, 25, 5)  # the same colour read from the EXR's linear values as if they were 8-bit


@pytest.fixture(scope="module")
def exr_shot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return (
        build_with_bpy("tests.shots.build_dailies", tmp_path_factory.mktemp("dailies"))
        / "exr25"
        / "shot.blend"
    )


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def test_an_exr_shots_movie_shows_its_frames_through_the_view_transform_at_its_frame_rate(
    stack: Stack, slack: FakeSlack, exr_shot: Path, tmp_path: Path
) -> None:
    # GIVEN a 25 fps shot rendering EXR, rendered by Blender and announced in its thread
    job_id = _render_and_announce(stack, slack, exr_shot, tmp_path)
    assert stack.jobs.get(job_id).fps == "25"  # the renderer read the scene's rate
    # THEN the thread has the contact sheet and the movie: every frame, at 25 fps
    (sheet, movie) = slack.calls_to("upload")
    assert sheet.body.startswith(b"\x89PNG")
    with av.open(io.BytesIO(movie.body)) as container:
        stream = container.streams.video[0]
        assert stream.average_rate == 25 and stream.codec_context.pix_fmt == "yuv420p"
        pictures = [frame.to_image().convert("RGB") for frame in container.decode(stream)]
    assert len(pictures) == 2  # frames 1-2 were asked
    # AND each frame is the picture through the view transform (the 8-bit texture), not the linear EXR
    for picture in pictures:
        middle = picture.getpixel((picture.width // 2, picture.height // 3))
        assert all(abs(got - want) <= 12 for got, want in zip(middle, WOOD_SRGB, strict=True)), middle
        assert any(abs(got - linear) > 30 for got, linear in zip(middle, WOOD_LINEAR, strict=True))
