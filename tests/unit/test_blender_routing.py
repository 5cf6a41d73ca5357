"""A shot renders with the Blender that saved it: same major.minor, else the nearest newer the farm has (with a ⚠),
never an older one (refused, naming what the farm has); `--blender` overrides within the same rule."""

from __future__ import annotations

import pytest

from backend.errors import ValidationError
from backend.render.blenders import farm_text, parse_versions, rendered_note, route

FARM = ("4.5", "5.0")


@pytest.mark.parametrize(
    ("saved_by", "blender"), [("4.5", "4.5"), ("4.5.15", "4.5"), ("5.0", "5.0"), ("5.0.1", "5.0")]
)
def test_a_shot_renders_with_the_version_that_saved_it(saved_by: str, blender: str) -> None:
    chosen = route("shot.blend", saved_by, FARM)
    assert chosen.blender == blender and chosen.note == "" and not chosen.overridden


@pytest.mark.parametrize(
    ("saved_by", "blender"), [("4.4", "4.5"), ("4.2", "4.5"), ("3.6", "4.5"), ("4.6", "5.0")]
)
def test_without_its_version_a_shot_renders_with_the_nearest_newer_with_a_warning(
    saved_by: str, blender: str
) -> None:
    chosen = route("shot.blend", saved_by, FARM)
    assert chosen.blender == blender
    assert chosen.note == f"saved by {saved_by}, rendered by {blender}"


def test_a_shot_newer_than_every_version_the_farm_has_is_refused_naming_them() -> None:
    with pytest.raises(
        ValidationError,
        match=r"saved by Blender 5\.1, newer than the farm's 4\.5 and 5\.0: .*Save it from Blender 5\.0",
    ):
        route("shot.blend", "5.1", FARM)


def test_one_version_farm_refuses_as_it_always_did() -> None:
    with pytest.raises(ValidationError, match=r"saved by Blender 5\.1, newer than the farm's 5\.0"):
        route("shot.blend", "5.1", ("5.0",))


def test_never_an_older_version_even_when_it_is_the_only_one() -> None:
    with pytest.raises(ValidationError, match=r"saved by Blender 5\.0, newer than the farm's 4\.5"):
        route("shot.blend", "5.0", ("4.5",))


def test_an_unknown_saving_version_renders_with_the_farms_newest_without_a_warning() -> None:
    assert route("shot.blend", "", FARM).blender == "5.0"
    assert route("shot.blend", "", FARM).note == ""


def test_the_override_picks_a_newer_version_and_says_so() -> None:
    chosen = route("shot.blend", "4.5", FARM, override="5.0")
    assert chosen.blender == "5.0" and chosen.overridden
    assert chosen.note == "saved by 4.5, rendered by 5.0"


def test_the_override_never_picks_an_older_version() -> None:
    with pytest.raises(
        ValidationError, match=r"saved by Blender 5\.0, newer than the Blender `--blender` names \(4\.5\)"
    ):
        route("shot.blend", "5.0", FARM, override="4.5")


def test_the_override_must_name_a_version_the_farm_has() -> None:
    with pytest.raises(
        ValidationError, match=r"`--blender 4\.2`: this farm renders with Blender 4\.5 and 5\.0"
    ):
        route("shot.blend", "4.2", FARM, override="4.2")


def test_versions_parse_sorted_once_each_and_refuse_words() -> None:
    assert parse_versions("5.0, 4.5,5.0.1") == ("4.5", "5.0")
    assert farm_text(("4.2", "4.5", "5.0")) == "4.2, 4.5 and 5.0"
    with pytest.raises(ValidationError, match=r"give major\.minor ones"):
        parse_versions("latest")


def test_the_note_compares_major_minor_only() -> None:
    assert rendered_note("4.5.15", "4.5") == ""
    assert rendered_note("4.4.3", "4.5") == "saved by 4.4, rendered by 4.5"
