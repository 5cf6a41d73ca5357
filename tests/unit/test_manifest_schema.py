"""A manifest anyone who may upload can write is checked against its schema before a worker uses any of it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from backend.errors import ValidationError
from backend.render.manifest import FileEntry, FileUse, Manifest

SHA = "ab" * 32
GOOD = Manifest(
    scene="shot.blend",
    blender="5.0",
    files={"shot.blend": FileEntry(SHA, 10), "textures/wood.png": FileEntry("cd" * 32, 5)},
    missing=(FileUse("//gone.png", "image gone.png", "shot.blend"),),
    remaps={"/home/anna/tex.png": "_outside/home/anna/tex.png"},
    origin="host:/projects/a/sh010",
    scene_etag="abc",
)


def _with(**changes: Any) -> str:
    return json.dumps(json.loads(GOOD.to_json()) | changes)


def test_a_good_manifest_reads_back_as_written() -> None:
    assert Manifest.from_json(GOOD.to_json()) == GOOD


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (_with(files={"../../tmp/PWNED_BY_MANIFEST.sh": {"sha256": SHA, "size": 1}}), "may not contain `..`"),
        (_with(files={"/etc/cron.d/x": {"sha256": SHA, "size": 1}}), "is absolute"),
        (_with(files={"a\\..\\..\\x": {"sha256": SHA, "size": 1}}), "backslash"),
        (_with(files={"\uff0e\uff0e/x": {"sha256": SHA, "size": 1}}), "looks like"),
        (_with(scene="../shot.blend"), "scene path `../shot.blend` may not contain `..`"),
        (_with(remaps={"/x.png": "../../x.png"}), "remapped file path"),
        (_with(files={"a.png": {"sha256": "../../../../x", "size": 1}}), "not 64 lowercase hex digits"),
        (_with(files={"a.png": {"sha256": SHA.upper(), "size": 1}}), "not 64 lowercase hex digits"),
        (_with(files={"a.png": {"sha256": SHA, "size": -1}}), "not a whole number of bytes"),
        (_with(files={"a.png": {"sha256": SHA, "size": "1"}}), "not a whole number of bytes"),
        (_with(files={"a.png": {"sha256": SHA, "size": True}}), "not a whole number of bytes"),
        (_with(files=["a.png"]), "`files` is not an object"),
        (_with(missing="x"), "`missing` is not a list"),
        (_with(origin=7), "`origin` is not text"),
        (_with(version=2), "its version is 2"),
        ("[]", "the manifest is not an object"),
        ("{not json", "is not JSON"),
    ],
)
def test_a_manifest_that_does_not_fit_is_refused_with_a_sentence(text: str, said: str) -> None:
    with pytest.raises(ValidationError, match=r"^The shot's manifest") as refused:
        Manifest.from_json(text)
    assert said in str(refused.value) and str(refused.value).endswith(".")
    assert isinstance(refused.value, ValueError)  # readers that skip an unreadable manifest still do
