"""Real Blender (bpy) at tiny sizes: frames written where the pipeline expects them, the scene kept open."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image

from backend.render.tasks import RenderSettings

pytestmark = pytest.mark.bpy
REPO = Path(__file__).resolve().parents[2]


def test_frames_render_at_the_asked_size_with_blenders_names(sample_scene: Path, tmp_path: Path) -> None:
    from blender_image.blender import BlenderRenderer

    renderer = BlenderRenderer()
    settings = RenderSettings(resolution=(64, 36), samples=1, engine="CYCLES")
    written = [renderer.render(sample_scene, frame, settings, tmp_path / "turntable") for frame in (1, 12)]
    assert [path.name for path in written] == ["turntable_0001.png", "turntable_0012.png"]
    for path in written:
        with Image.open(path) as image:
            assert image.size == (64, 36)
    with Image.open(written[0]) as first, Image.open(written[1]) as later:
        assert first.tobytes() != later.tobytes()  # the scene is animated
    assert renderer.opens == 1  # warm: the scene stayed open between frames


def test_workbench_and_jpeg_are_honoured(sample_scene: Path, tmp_path: Path) -> None:
    from blender_image.blender import BlenderRenderer

    settings = RenderSettings(resolution=(48, 27), engine="BLENDER_WORKBENCH", file_format="JPEG")
    path = BlenderRenderer().render(sample_scene, 3, settings, tmp_path / "turntable")
    assert path.name == "turntable_0003.jpg"
    with Image.open(path) as image:
        assert image.format == "JPEG"


def test_a_file_that_is_not_a_blend_raises(tmp_path: Path) -> None:
    from blender_image.blender import BlenderRenderer

    broken = tmp_path / "broken.blend"
    broken.write_bytes(b"this is not a blend file")
    with pytest.raises(RuntimeError):
        BlenderRenderer().render(broken, 1, RenderSettings(resolution=(16, 9)), tmp_path / "broken")


def test_bpy_is_imported_only_by_the_render_module() -> None:
    importers = [
        path.relative_to(REPO).as_posix()
        for folder in ("backend", "bot", "blender_image", "local")
        for path in (REPO / folder).rglob("*.py")
        if re.search(r"^\s*(import bpy|from bpy\b)", path.read_text(), re.MULTILINE)
    ]
    assert sorted(importers) == [
        "blender_image/blender.py",
        "blender_image/gpu_check.py",
        "blender_image/library_paths.py",  # the render module's remapping of a library's own paths
        "blender_image/missing.py",  # the render module's checks of what the open scene lacks
        "blender_image/sample/build_sample_scene.py",
    ]
