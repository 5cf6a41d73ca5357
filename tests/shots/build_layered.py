"""Build two shots with two view layers each, rendering multilayer EXR: `python -m tests.shots.build_layered OUT`.

OUT/layered/shot.blend      view layer `Fore/ground é` sees a red plane, `Background` a blue one; nothing composites
OUT/composited/shot.blend   the same, and a compositor showing the first layer: its previews are the composite
"""

from __future__ import annotations

import sys
from pathlib import Path

import bpy

from blender_image.compat import MULTILAYER, for_version
from tests.shots.build_shots import _empty_scene, _png, _save, _textured_plane

RED = (0.8, 0.1, 0.1, 1.0)  # what the first view layer sees
BLUE = (0.1, 0.2, 0.8, 1.0)  # what the second one sees
FIRST, SECOND = "Fore/ground é", "Background"  # a name with a `/` and a non-ASCII letter: names are data


def layered(folder: Path, composite: bool = False) -> Path:
    """Two view layers, each seeing its own plane, saved as multilayer EXR (with a compositor when asked)."""
    _png(folder / "textures" / "red.png", RED)
    _png(folder / "textures" / "blue.png", BLUE)
    scene = _empty_scene()
    shot = folder / "shot.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(shot))
    for name in ("red", "blue"):
        image = bpy.data.images.load(str(folder / "textures" / f"{name}.png"))
        image.filepath = f"//textures/{name}.png"
        plane = _textured_plane(name.title(), image)
        collection = bpy.data.collections.new(name.title())
        scene.collection.children.link(collection)
        for users in list(plane.users_collection):
            users.objects.unlink(plane)
        collection.objects.link(plane)
    first = scene.view_layers[0]
    first.name = FIRST
    second = scene.view_layers.new(SECOND)
    first.layer_collection.children["Blue"].exclude = True
    second.layer_collection.children["Red"].exclude = True
    blender = for_version(bpy.app.version)
    blender.set_file_format(scene.render.image_settings, MULTILAYER)
    if composite:
        tree = blender.new_compositor(scene, bpy.data)
        layers = tree.nodes.new("CompositorNodeRLayers")
        layers.layer = FIRST
        blender.add_output(tree, layers.outputs["Image"])
    _save(shot)
    return shot


def build(out: Path) -> None:
    """Write both shots under `out`."""
    bpy.context.preferences.filepaths.save_version = 0
    layered(out / "layered")
    layered(out / "composited", composite=True)


if __name__ == "__main__":
    build(Path(sys.argv[1]).resolve())
