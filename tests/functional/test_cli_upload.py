"""`studiobot upload` refuses what `render` refuses, speaks plain text, and hints a command that works."""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tests.functional.cli_stack import CliStack, cli_stack

pytestmark = [pytest.mark.slow, pytest.mark.bpy]


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliStack]:
    with cli_stack(tmp_path_factory.mktemp("cli") / ".studiobot") as running:
        yield running


def _copy(shots: Path, shot: str, to: Path) -> Path:
    shutil.copytree(shots / shot, to)
    return to / "shot.blend"


def _said(result: object) -> str:
    out = result.stdout + result.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in out, out
    return " ".join(out.split())


def _keys(cli: CliStack, prefix: str) -> list[str]:
    s3 = boto3.client("s3", endpoint_url=cli.info.endpoint)
    listing = s3.list_objects_v2(Bucket=cli.info.scenes_bucket, Prefix=prefix)
    return [item["Key"] for item in listing.get("Contents", [])]


def _hint(said: str) -> list[str]:
    return shlex.split(said.split("Render it with: ", 1)[1])


def test_upload_refuses_missing_files_with_renders_words_and_sends_nothing(
    cli: CliStack, shots: Path, tmp_path: Path
) -> None:
    scene = _copy(shots, "missing", tmp_path / "upmissing")
    uploaded = cli.run("upload", str(scene))
    rendered = cli.run("render", str(scene), "1")
    assert uploaded.returncode == 1 and rendered.returncode == 1
    refusal = "image wood.png uses `//textures/wood.png`: not found next to `shot.blend`"
    assert refusal in _said(uploaded) and _said(uploaded) == _said(rendered)
    assert _keys(cli, "scenes/upmissing/") == []


def test_upload_allow_missing_ships_says_so_in_plain_text_and_hints_the_same_choice(
    cli: CliStack, shots: Path, tmp_path: Path
) -> None:
    scene = _copy(shots, "missing", tmp_path / "forced")
    said = _said(cli.run("upload", str(scene), "--allow-missing"))
    assert "[yellow]" not in said and "⚠ `shot.blend` needs file that is not there" in said
    assert _hint(said) == ["studiobot", "render", str(scene), "1-2", "--allow-missing"]
    assert _keys(cli, "scenes/forced/")


def test_the_hint_quotes_a_path_with_spaces_uses_the_scenes_frames_and_works(
    cli: CliStack, shots: Path, tmp_path: Path
) -> None:
    scene = _copy(shots, "textured", tmp_path / "my shots" / "sh 010")
    said = _said(cli.run("upload", str(scene)))
    hint = _hint(said)
    assert hint == ["studiobot", "render", str(scene), "1-2"]  # the textured shot's frames are 1-2
    planned = cli.run(*hint[1:], "--dry-run")
    assert planned.returncode == 0 and "Frames 1-2 (2 frames)" in _said(planned)


def test_a_name_clash_says_the_way_out_with_the_path_typed_and_render_takes_as(
    cli: CliStack, shots: Path, tmp_path: Path
) -> None:
    first = _copy(shots, "textured", tmp_path / "proj1" / "shotA")
    second = _copy(shots, "textured", tmp_path / "proj2" / "shotA")
    assert cli.run("upload", str(first)).returncode == 0
    for verb, extra in (("upload", []), ("render", ["1"])):
        clash = cli.run(verb, str(second), *extra)
        typed = shlex.join(["studiobot", verb, str(second), *extra])
        assert clash.returncode == 1
        assert f"ship it under its own name (`{typed} --as project/shot`)" in _said(clash)
    # GIVEN a name of its own, upload's hint renders it under that name, and `render --as` takes it
    said = _said(cli.run("upload", str(second), "--as", "proj2/shotA"))
    hint = _hint(said)
    assert hint == ["studiobot", "render", str(second), "1-2", "--as", "proj2/shotA"]
    planned = cli.run(*hint[1:], "--dry-run")
    assert planned.returncode == 0 and "Scene `scenes/proj2/shotA/shot.blend`" in _said(planned)
