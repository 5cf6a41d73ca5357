"""A scene put in the bucket by hand: what it uses is looked for where the worker will find it (under `--assets`)."""

from __future__ import annotations

from backend.aws.s3 import ObjectInfo
from backend.render.bare_scenes import missing_in_bucket
from backend.render.manifest import FileUse, Manifest


def _traced(*written: str) -> Manifest:
    uses = tuple(FileUse(path, f"image {path.rsplit('/', 1)[-1]}", "shot.blend") for path in written)
    return Manifest("shot.blend", "5.0", {}, scene_etag="e1", uses=uses)


def _bucket(*keys: str) -> list[ObjectInfo]:
    return [ObjectInfo(key=key, etag="e", size=1) for key in keys]


def test_a_tiled_image_is_there_when_its_tiles_are_and_missing_when_none_is() -> None:
    manifest = _traced("//textures/cloth.<UDIM>.png", "//textures/skin.<UDIM>.png")
    assets = _bucket("scenes/sh010/textures/cloth.1001.png", "scenes/sh010/textures/cloth.1002.png")
    (missing,) = missing_in_bucket(manifest, "scenes/sh010/shot.blend", assets)
    assert missing.written_as == "//textures/skin.<UDIM>.png"


def test_an_absolute_path_or_one_above_the_scene_is_never_found_in_the_bucket() -> None:
    manifest = _traced("/home/anna/wood.png", "//../shared/oak.png", "//wood.png")
    assets = _bucket("scenes/shared/oak.png", "scenes/sh010/wood.png")
    missing = missing_in_bucket(manifest, "scenes/sh010/shot.blend", assets)
    assert [use.written_as for use in missing] == ["/home/anna/wood.png", "//../shared/oak.png"]


def test_a_traced_manifest_round_trips_and_says_it_was_traced() -> None:
    manifest = _traced("//textures/wood.png")
    again = Manifest.from_json(manifest.to_json())
    assert again == manifest and again.traced
