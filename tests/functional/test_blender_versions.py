"""Each Blender the farm runs (4.5 LTS and 5.0), in its own environment: the compatibility layer builds, saves,
reopens and reads back a compositor with a Denoise node and every frame format; the worker's renderer renders a shot
that Blender saved, whole, as tiles that stitch to the same frame, and as multilayer EXR."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.blenders import VERSIONS, last_json, run_module

pytestmark = pytest.mark.bpy


@pytest.mark.parametrize("version", VERSIONS)
def test_the_compatibility_layer_builds_and_reads_back_a_compositor_in_each_blender(
    version: str, tmp_path: Path
) -> None:
    seen = last_json(run_module(version, "tests.shots.compat_check", str(tmp_path)).stdout)
    assert seen["bpy"].startswith(version), "the test ran another Blender than it meant to"
    assert seen["layer"] == {"4.5": "Blender45", "5.0": "Blender50"}[version]
    assert seen["composites_before"] is False
    assert seen["outputs"] == [{"4.5": "COMPOSITE", "5.0": "GROUP_OUTPUT"}[version]]
    assert seen["composites"] is True and seen["denoises"] is True
    assert seen["denoise"] == ["FAST", "BALANCED", False]  # the Denoise node's options survive a save
    assert seen["overscan"] == 16  # a compositor's denoiser widens the tiles' overscan
    assert seen["shown"] == "composite of 2 view layers"
    assert seen["formats"] == {
        "PNG": "PNG",
        "OPEN_EXR": "OPEN_EXR",
        "FFMPEG": "FFMPEG",
        "OPEN_EXR_MULTILAYER": "OPEN_EXR_MULTILAYER",
    }
    assert seen["reopened_format"] == "OPEN_EXR_MULTILAYER"
    assert seen["eevee"] is True  # `--engine BLENDER_EEVEE` names this Blender's EEVEE


@pytest.mark.parametrize("version", VERSIONS)
def test_each_blender_renders_a_shot_it_saved_whole_as_tiles_and_as_multilayer_exr(
    version: str, tmp_path: Path
) -> None:
    shot = tmp_path / "turntable.blend"
    run_module(version, "blender_image.sample.build_sample_scene", str(shot))
    seen = last_json(run_module(version, "tests.shots.render_check", str(shot), str(tmp_path / "out")).stdout)
    assert seen["bpy"].startswith(version)
    assert seen["png"] == "frame_0001.png" and seen["size"] == [64, 36]
    assert seen["colours"] > 20  # a picture, not an empty frame
    assert seen["tiles_stitch_to_the_frame"] is True  # to the bit
    assert seen["exr"] == "frame_0001.exr" and seen["exr_lit"] is True
    assert seen["exr_channels"][:4] == [f"ViewLayer.Combined.{channel}" for channel in "RGBA"]
