"""Which files of a UDIM set or an image sequence a render reads, and the words for what is missing."""

from __future__ import annotations

from backend.render.image_sets import ImageSet, ImageUser, numbered
from backend.render.manifest import FileUse, Manifest, image_gaps, missing_text


def test_a_sequence_user_extends_before_its_start_and_after_its_end_unless_cyclic() -> None:
    plate = ImageUser(start=1, duration=4, offset=0)
    assert [plate.reads(frame) for frame in range(1, 8)] == [1, 2, 3, 4, 4, 4, 4]  # held: not a gap
    assert plate.reads(-3) == 0  # before the start: Blender's frame 0 (plus the offset)
    looped = ImageUser(start=1, duration=3, offset=0, cyclic=True)
    assert [looped.reads(frame) for frame in range(1, 8)] == [1, 2, 3, 1, 2, 3, 1]
    shifted = ImageUser(start=10, duration=5, offset=100)
    assert [shifted.reads(frame) for frame in (10, 12, 14, 20)] == [101, 103, 105, 105]


def test_a_sequence_files_number_keeps_its_width_and_only_the_last_digits_change() -> None:
    assert numbered("plates/sh010_v2/plate.0001.png", 37) == "plates/sh010_v2/plate.0037.png"
    assert numbered("plate_v2_001.exr", 1234) == "plate_v2_1234.exr"


def test_a_udim_set_reads_the_tiles_its_blend_lists_not_the_files_that_are_there() -> None:
    wood = ImageSet(
        "//textures/wood.<UDIM>.png", "image wood", "shot.blend", "textures/wood.<UDIM>.png", (1001, 1002)
    )
    (gap,) = image_gaps((wood,), {"textures/wood.1001.png"}, [1, 2])
    assert gap.gap == "image wood uses tiles 1001–1002 of `//textures/wood.<UDIM>.png`: 1002 is not there"
    assert image_gaps((wood,), {"textures/wood.1001.png", "textures/wood.1002.png"}, [1]) == []


def test_a_sequence_is_checked_by_the_frames_the_range_reads() -> None:
    plate = ImageSet(
        "//plates/plate.0001.png",
        "image plate",
        "shot.blend",
        "plates/plate.0001.png",
        users=(ImageUser(1, 4, 0),),
    )
    present = {f"plates/plate.{n:04d}.png" for n in (1, 2, 4)}
    (gap,) = image_gaps((plate,), present, [1, 2, 3, 4])
    assert gap.gap == "image plate uses frames 1–4 of `//plates/plate.0001.png`: 3 is not there"
    assert image_gaps((plate,), present, [1, 2]) == [] and image_gaps((plate,), present, [4, 5, 6]) == []


def test_missing_paths_are_described_as_what_they_are() -> None:
    text = missing_text(
        [
            FileUse("//textures/wood.png", "image wood.png", "shot.blend"),
            FileUse("/mnt/projects/lib/oak.png", "image oak.png", "shot.blend"),
            FileUse("//../shared/grain.png", "image grain.png", "shot.blend"),
            FileUse("//textures/skin.png", "image skin.png", "_outside/mnt/projects/char/character.blend"),
        ],
        "shot.blend",
    )
    assert "image wood.png uses `//textures/wood.png`: not found next to `shot.blend`" in text
    assert "uses `/mnt/projects/lib/oak.png`: not found (an absolute path, outside the shot folder)" in text
    assert (
        "uses `//../shared/grain.png`: not found (`../` leads above the folder of `shot.blend`, outside"
        in text
    )
    assert (
        "image skin.png uses `//textures/skin.png`: not found next to `/mnt/projects/char/character.blend`"
        in text
    )
    assert "_outside" not in text


def test_image_sets_and_gaps_round_trip_through_the_manifest_and_old_manifests_still_read() -> None:
    plate = ImageSet(
        "//p/plate.0001.png", "image plate", "shot.blend", "p/plate.0001.png", users=(ImageUser(1, 4),)
    )
    wood = ImageSet("//t/w.<UDIM>.png", "image w", "shot.blend", "t/w.<UDIM>.png", tiles=(1001, 1002))
    gap = FileUse(
        "//t/w.<UDIM>.png", "image w", "shot.blend", "image w uses tiles 1001–1002 of …: 1002 is not there"
    )
    manifest = Manifest("shot.blend", "5.0", {}, missing=(gap,), images=(plate, wood))
    assert Manifest.from_json(manifest.to_json()) == manifest
    old = Manifest("shot.blend", "5.0", {}, missing=(FileUse("//a.png", "image a", "shot.blend"),))
    assert '"gap"' not in old.to_json() and '"images"' not in old.to_json()
    assert Manifest.from_json(old.to_json()) == old


def test_a_hand_written_manifest_with_too_many_image_users_is_refused_with_a_sentence() -> None:
    import json

    import pytest

    from backend.render.manifest_schema import MAX_IMAGE_USERS, BadManifest

    users = [{"start": 1, "duration": 4, "offset": 0, "cyclic": False}] * (MAX_IMAGE_USERS + 1)
    image = {
        "written_as": "//p/plate.0001.png",
        "used_by": "image p",
        "referrer": "shot.blend",
        "path": "p/a.png",
    }
    text = json.dumps(
        {"version": 1, "scene": "shot.blend", "files": {}, "images": [image | {"users": users}]}
    )
    with pytest.raises(BadManifest, match=r"1,000 image users\): ship the shot again"):
        Manifest.from_json(text)
