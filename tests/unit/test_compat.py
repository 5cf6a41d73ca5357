"""Which compatibility layer a Blender gets, and the calls that differ, on scenes as bpy hands them (imitated)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from blender_image.compat import Blender45, Blender50, composites, for_scene, for_version


@pytest.mark.parametrize(
    ("version", "layer"),
    [((4, 5, 15), Blender45), ((5, 0, 1), Blender50), ((5, 2, 3), Blender50), ((4, 5), Blender45)],
)
def test_a_blender_gets_the_newest_layer_not_above_its_version(version: tuple[int, ...], layer: type) -> None:
    assert type(for_version(version)) is layer


def test_a_blender_older_than_the_farm_runs_is_refused_naming_what_it_runs() -> None:
    with pytest.raises(ValueError, match=r"Blender 4\.4\.0 is older than the farm runs \(4\.5 and 5\.0\)"):
        for_version((4, 4, 0))


def test_eevee_is_named_as_each_blender_names_it() -> None:
    assert Blender45().engine("BLENDER_EEVEE") == "BLENDER_EEVEE_NEXT"
    assert Blender50().engine("BLENDER_EEVEE") == "BLENDER_EEVEE"
    assert Blender50().engine("BLENDER_EEVEE_NEXT") == "BLENDER_EEVEE"
    assert Blender45().engine("CYCLES") == "CYCLES"


def test_a_45_scene_composites_through_its_composite_node_only_with_nodes_on() -> None:
    tree = SimpleNamespace(
        nodes=[SimpleNamespace(type="R_LAYERS"), SimpleNamespace(type="COMPOSITE", mute=False)]
    )
    scene = SimpleNamespace(render=SimpleNamespace(use_compositing=True), node_tree=tree, use_nodes=True)
    assert type(for_scene(scene)) is Blender45
    assert composites(scene)
    scene.use_nodes = False
    assert not composites(scene)


def test_formats_in_45_are_one_list_and_in_50_a_media_type_and_a_format() -> None:
    old, new = SimpleNamespace(file_format="PNG"), SimpleNamespace(media_type="IMAGE", file_format="PNG")
    Blender45().set_file_format(old, "OPEN_EXR_MULTILAYER")
    Blender50().set_file_format(new, "OPEN_EXR_MULTILAYER")
    assert vars(old) == {"file_format": "OPEN_EXR_MULTILAYER"}
    assert vars(new) == {"media_type": "MULTI_LAYER_IMAGE", "file_format": "OPEN_EXR_MULTILAYER"}
    new.media_type = "VIDEO"
    assert Blender50().file_format(new) == "FFMPEG"
