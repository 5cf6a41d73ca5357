"""A library's own paths outside the shot are written in the manifest per library, read back checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backend.errors import ValidationError
from backend.render.manifest import FileEntry, Manifest
from backend.render.shots import Dependency, ShotTrace

SHA = "ab" * 32


def _trace(tmp_path: Path) -> ShotTrace:
    shot, mount = tmp_path / "sh010", tmp_path / "mnt" / "projects"
    bark, leaf = mount / "tex" / "bark.png", tmp_path / "shared" / "leaf.png"
    library = shot / "lib" / "prop.blend"
    files = (
        Dependency("shot.blend", shot / "shot.blend", "the scene", "", ""),
        Dependency("lib/prop.blend", library, "library prop.blend", "//lib/prop.blend", "shot.blend"),
        Dependency(f"_outside{bark}", bark, "image bark.png", str(bark), "shot.blend"),
        Dependency(f"_outside{leaf}", leaf, "image leaf.png", "//../../shared/leaf.png", "lib/prop.blend"),
    )
    # the scene and the library both use the mount's bark.png: the library's use is a use of its own
    more = (Dependency(f"_outside{bark}", bark, "image bark.png", str(bark), "lib/prop.blend"),)
    return ShotTrace(shot, "shot.blend", "5.0", files, (), more)


def test_each_librarys_paths_outside_the_shot_are_remapped_by_library(tmp_path: Path) -> None:
    trace = _trace(tmp_path)
    manifest = trace.manifest({dep.path: FileEntry(SHA, 1) for dep in trace.files})
    bark, leaf = f"{tmp_path}/mnt/projects/tex/bark.png", f"{tmp_path}/shared/leaf.png"
    assert manifest.remaps == {bark: f"_outside{bark}"}
    assert manifest.library_remaps == {
        "lib/prop.blend": {bark: f"_outside{bark}", "//../../shared/leaf.png": f"_outside{leaf}"}
    }
    assert Manifest.from_json(manifest.to_json()) == manifest


def test_a_manifest_without_library_remaps_reads_as_before() -> None:
    plain = Manifest("shot.blend", "5.0", {"shot.blend": FileEntry(SHA, 1)})
    assert "library_remaps" not in json.loads(plain.to_json())
    assert Manifest.from_json(plain.to_json()).library_remaps == {}


@pytest.mark.parametrize(
    "remaps",
    [
        {"../../etc/prop.blend": {"/mnt/x.png": "_outside/mnt/x.png"}},
        {"lib/prop.blend": {"/mnt/x.png": "../../../etc/passwd"}},
        {"lib/prop.blend": ["not", "an", "object"]},
    ],
)
def test_a_library_remap_that_would_lead_outside_is_refused(remaps: object) -> None:
    plain = Manifest("shot.blend", "5.0", {"shot.blend": FileEntry(SHA, 1)})
    text = json.dumps(json.loads(plain.to_json()) | {"library_remaps": remaps})
    with pytest.raises(ValidationError, match="manifest"):
        Manifest.from_json(text)
