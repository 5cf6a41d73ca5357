"""The scene is content too, and a library's own paths travel: real shots built with bpy, shipped to moto's S3,
rendered with real Blender (the frames are looked at)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from PIL import Image

from backend.render.manifest import Manifest, manifest_key_for
from backend.render.shipping import Shipped, ShotShipper, shot_key
from backend.render.shots import hash_files, trace_shot

from .conftest import Stack
from .test_shots import _magenta, _mean, _render

pytestmark = pytest.mark.bpy


def _ship(stack: Stack, scene: Path, name: str = "") -> Shipped:
    trace = trace_shot(scene)
    manifest = trace.manifest(hash_files(trace))
    shipper = ShotShipper(stack.store, stack.settings.scenes_bucket, stack.settings.scenes_prefix)
    return shipper.ship(trace, manifest, shot_key(scene, stack.settings.scenes_prefix, name))


def _one_frame(stack: Stack, tmp_path: Path, key: str) -> Image.Image:
    frames = _render(stack, tmp_path, key)
    assert len(frames) == 1, "the frame failed: Blender could not find a file the worker had laid out"
    return frames[0]


@contextmanager
def _taken_away(*folders: Path) -> Iterator[None]:
    """The folders are not there (a farm machine without the studio's mount), then put back."""
    for folder in folders:
        folder.rename(folder.with_name(folder.name + ".away"))
    try:
        yield
    finally:
        for folder in folders:
            folder.with_name(folder.name + ".away").rename(folder)


def test_a_librarys_textures_outside_the_shot_render_with_the_mount_taken_away(
    stack: Stack, shots: Path, tmp_path: Path
) -> None:
    # GIVEN a linked library whose textures are on a studio mount (absolute) and up out of its folder (`//../../`)
    shipped = _ship(stack, shots / "mounted" / "shot.blend")
    assert not shipped.manifest.missing
    assert sum(path.startswith("_outside/") for path in shipped.manifest.files) == 2
    # WHEN the farm machine has neither folder
    with _taken_away(shots / "mnt_projects", shots / "shared_tex"):
        frame = _one_frame(stack, tmp_path, shipped.scene_key)
    # THEN the frame shows both textures: bark (red) on the left, leaf (green) on the right; no magenta
    assert _magenta(frame) == 0
    left = frame.crop((0, 0, frame.width // 2 - 2, frame.height))
    right = frame.crop((frame.width // 2 + 2, 0, frame.width, frame.height))
    red, green, blue = _mean(left)
    assert red > 120 and green < 60 and blue < 60, _mean(left)
    red, green, blue = _mean(right)
    assert green > 120 and red < 60 and blue < 60, _mean(right)


def test_a_library_linked_by_absolute_path_from_a_library_renders_with_the_mount_taken_away(
    stack: Stack, shots: Path, tmp_path: Path
) -> None:
    # GIVEN the shot's set links a rock from the studio mount by absolute path, its texture by absolute path too
    shipped = _ship(stack, shots / "nested" / "shot.blend")
    assert not shipped.manifest.missing
    # WHEN the farm machine has no mount
    with _taken_away(shots / "mnt_projects"):
        frame = _one_frame(stack, tmp_path, shipped.scene_key)
    # THEN the rock is there, with its own texture (orange), not magenta
    red, green, blue = _mean(frame)
    assert red > 120 and 60 < green < 140 and blue < 40 and _magenta(frame) == 0, _mean(frame)


def test_changing_one_texture_sends_that_texture_and_a_manifest(
    stack: Stack, shots: Path, tmp_path: Path
) -> None:
    shot = tmp_path / "artist" / "sh030"
    shutil.copytree(shots / "textured", shot)
    first = _ship(stack, shot / "shot.blend")
    assert first.bytes_sent == first.manifest.total_bytes  # the first time, everything (the scene too)
    # WHEN the artist repaints the texture (blue now) and ships again
    texture = shot / "textures" / "wood.png"
    Image.new("RGB", (8, 8), (20, 40, 220)).save(texture)
    changed = _ship(stack, shot / "shot.blend")
    # THEN only the texture and a manifest were sent: not the .blend
    texture_bytes = texture.stat().st_size
    assert changed.files_sent == 1 and changed.bytes_sent == texture_bytes, changed
    assert changed.bytes_sent + changed.meta_bytes_sent <= texture_bytes + 10_000
    # AND the frame shows the new texture: every reader finds the scene as before
    frame = _one_frame(stack, tmp_path / "render", changed.scene_key)
    red, _green, blue = _mean(frame)
    assert blue > 150 and red < 60 and _magenta(frame) == 0


def test_the_same_blend_under_another_name_sends_none_of_it(
    stack: Stack, shots: Path, tmp_path: Path
) -> None:
    scene = shots / "textured" / "shot.blend"
    _ship(stack, scene)
    # WHEN the very same shot ships under another name
    other = _ship(stack, scene, name="projB/textured")
    # THEN not a byte of it is sent again: the scene lies in the content store once
    assert other.scene_key == "scenes/projB/textured/shot.blend"
    assert other.bytes_sent == 0 and other.files_sent == 0, other
    text, _ = stack.store.read(stack.settings.scenes_bucket, manifest_key_for(other.scene_key))
    assert Manifest.from_json(text).files["shot.blend"] == other.manifest.files["shot.blend"]
    # AND the name renders the scene, as a key of its own
    frame = _one_frame(stack, tmp_path, other.scene_key)
    red, green, blue = _mean(frame)
    assert red > green > blue and _magenta(frame) == 0
    assert (
        stack.s3.get_object(Bucket=stack.settings.scenes_bucket, Key=other.scene_key)["Body"].read()
        == scene.read_bytes()
    )
