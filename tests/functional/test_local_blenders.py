"""`studiobot up --blender 4.5,5.0`: a worker pool per Blender, each in its own environment; a shot saved by each
bpy (at test time) routes to its own class and renders there: frames right, a 4.5 shot's tiles stitched, multilayer
EXR from both; `--blender 5.0` renders a 4.5 shot with 5.0 and says so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import OpenImageIO as oiio
import pytest
from PIL import Image

from tests.blenders import python_for, run_module

pytestmark = [pytest.mark.slow, pytest.mark.bpy]
REPO = Path(__file__).resolve().parents[2]
TINY = ("--res", "64x36", "--samples", "2", "--engine", "CYCLES")
WOOD_BROWN_RED_OVER_BLUE = 1.5  # the textured shot's wood is brown: far more red than blue


def studiobot(home: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STUDIOBOT_HOME": str(home), "COLUMNS": "200", "PYTHONPATH": str(REPO)}
    env.pop("AWS_ENDPOINT_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "local.cli.main", *args],
        env=env,
        cwd=home.parent,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sample shot and the textured shot, saved by each Blender's own bpy: `{"4.5": folder, "5.0": folder}`."""
    folders = {}
    for version in ("4.5", "5.0"):
        python_for(version)  # skips (or fails in CI) without 4.5's environment
        folder = tmp_path_factory.mktemp(f"saved{version.replace('.', '')}")
        run_module(
            version, "blender_image.sample.build_sample_scene", str(folder / "sample" / "turntable.blend")
        )
        run_module(version, "tests.shots.build_shots", str(folder / "shots"))
        folders[version] = folder
    return folders


@pytest.fixture(scope="module")
def two_blenders(tmp_path_factory: pytest.TempPathFactory, saved: dict[str, Path]) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("stack") / ".studiobot"
    started = studiobot(home, "up", "--workers", "1", "--blender", "4.5,5.0", "--visibility-timeout", "30")
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        yield home
    finally:
        stopped = studiobot(home, "down")
        assert "Local stack stopped" in stopped.stdout, stopped.stdout + stopped.stderr


def _render(home: Path, shot: Path, *words: str) -> tuple[str, Path]:
    """Ship and render a shot (named by the folders it was saved in: each Blender's shots are their own)."""
    out = home.parent / "renders"
    saver = next(folder.name for folder in shot.parents if folder.name.startswith("saved"))
    name = f"{saver}/{shot.parent.name}"
    done = studiobot(home, "render", str(shot), *words, "--as", name, "--out", str(out))
    said = " ".join(done.stdout.split())
    assert done.returncode == 0 and "finished" in said, done.stdout + done.stderr
    job_id = said.split("Render `", 1)[1].split("`", 1)[0]
    return said, out / job_id


@pytest.mark.parametrize("version", ["4.5", "5.0"])
def test_a_shot_renders_with_the_blender_that_saved_it(
    two_blenders: Path, saved: dict[str, Path], version: str
) -> None:
    shot = saved[version] / "shots" / "textured" / "shot.blend"
    said, folder = _render(
        two_blenders, shot, "1-2", "--res", "64x36"
    )  # its own engine: Workbench shows textures
    assert f"🧊 Rendered with Blender {version}" in said
    for frame in (1, 2):
        with Image.open(folder / f"shot_{frame:04d}.png") as picture:
            red, _, blue = picture.convert("RGB").resize((1, 1)).getpixel((0, 0))
        assert red > WOOD_BROWN_RED_OVER_BLUE * blue  # the wood texture, not Blender's missing-file magenta
    worker = "render-4.5-1" if version == "4.5" else "render-1"
    assert (
        f"frames/{folder.name}/shot_0001.png" in (two_blenders / f"{worker}.log").read_text()
    )  # it wrote it


def test_a_45_shots_tiles_stitch_and_both_blenders_write_multilayer_exr(
    two_blenders: Path, saved: dict[str, Path]
) -> None:
    shot45 = saved["4.5"] / "sample" / "turntable.blend"
    said, whole = _render(two_blenders, shot45, "3", *TINY)
    said_tiles, tiled = _render(two_blenders, shot45, "3", *TINY, "--tiles", "2x2")
    assert "Blender 4.5" in said and "🧩 2×2 tiles a frame" in said_tiles and "Blender 4.5" in said_tiles
    with Image.open(whole / "turntable_0003.png") as a, Image.open(tiled / "turntable_0003.png") as b:
        assert a.size == b.size == (64, 36) and a.tobytes() == b.tobytes()  # to the bit
    for version in ("4.5", "5.0"):
        said, folder = _render(two_blenders, saved[version] / "sample" / "turntable.blend", "3", *TINY,
                               "--format", "OPEN_EXR_MULTILAYER")  # fmt: skip
        assert f"Blender {version}" in said
        channels = oiio.ImageBuf(str(folder / "turntable_0003.exr")).spec().channelnames
        assert "ViewLayer.Combined.R" in channels


def test_blender_overrides_and_the_card_warns(two_blenders: Path, saved: dict[str, Path]) -> None:
    said, _ = _render(
        two_blenders, saved["4.5"] / "sample" / "turntable.blend", "4", *TINY, "--blender", "5.0"
    )
    assert "⚠️ Blender 5.0: saved by 4.5, rendered by 5.0" in said
    stack = json.loads((two_blenders / "stack.json").read_text())
    assert sorted(stack["workers"]) == ["dlq", "dlq-gpu", "render-1", "render-4.5-1"]


def _halves(path: Path) -> tuple[tuple[int, ...], tuple[int, ...]]:
    with Image.open(path) as picture:
        rgb = picture.convert("RGB")
        width, height = rgb.size
        left = rgb.crop((0, 0, width // 2, height)).resize((1, 1)).getpixel((0, 0))
        right = rgb.crop((width // 2, 0, width, height)).resize((1, 1)).getpixel((0, 0))
    return left, right  # type: ignore[return-value]


def test_a_45_shots_files_outside_it_are_found_by_45s_own_path_walk(
    two_blenders: Path, saved: dict[str, Path]
) -> None:
    # 4.5 has no file_path_foreach: the compatibility layer repoints an absolute texture path and a library's own
    # paths (absolute, and leaving its folder) through 4.5's path map
    _, elsewhere = _render(
        two_blenders, saved["4.5"] / "shots" / "elsewhere" / "shot.blend", "1", "--res", "32x18"
    )
    (red, green, blue), _ = _halves(elsewhere / "shot_0001.png")
    assert blue > 2 * red and blue > green  # the studio library's oak (blue), not magenta
    _, mounted = _render(
        two_blenders, saved["4.5"] / "shots" / "mounted" / "shot.blend", "1", "--res", "32x18"
    )
    left, right = _halves(mounted / "shot_0001.png")
    assert left[0] > 3 * max(left[1], left[2])  # bark (red) by absolute path: not magenta, which is blue too
    assert right[1] > 3 * max(right[0], right[2])  # leaf (green), by a path leaving the library's folder
