"""Exercise the compatibility layer in this process's Blender and print what it saw as one JSON line:
`python -m tests.shots.compat_check OUT` (run with each Blender's Python by tests/unit/test_compat_versions.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import bpy

from blender_image.compat import MULTILAYER, VIDEO, composites, compositor_denoises, for_version
from blender_image.layers import shown_layer
from blender_image.regions import overscan_of


def check(out: Path) -> dict[str, object]:
    """Build a compositor (render layers → Denoise → output), set formats, save, reopen and read it all back."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    blender = for_version(bpy.app.version)
    scene = bpy.context.scene
    seen: dict[str, object] = {"bpy": bpy.app.version_string, "layer": type(blender).__name__}
    seen["composites_before"] = composites(scene)
    scene.view_layers.new("Second")
    tree = blender.new_compositor(scene, bpy.data)
    layers = tree.nodes.new("CompositorNodeRLayers")
    denoise = tree.nodes.new("CompositorNodeDenoise")
    tree.links.new(layers.outputs["Image"], denoise.inputs["Image"])
    blender.add_output(tree, denoise.outputs["Image"])
    blender.set_denoise(denoise, prefilter="FAST", quality="BALANCED", hdr=False)
    image = scene.render.image_settings
    formats = {}
    for wanted in ("PNG", "OPEN_EXR", VIDEO, MULTILAYER):
        blender.set_file_format(image, wanted)
        formats[wanted] = blender.file_format(image)
    seen["formats"] = formats
    scene.render.engine = blender.engine("BLENDER_EEVEE")
    seen["eevee"] = blender.is_eevee(scene.render.engine)
    scene.render.engine = "CYCLES"
    shot = out / "compat.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(shot))
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.wm.open_mainfile(filepath=str(shot))
    scene = bpy.context.scene
    tree = blender.compositor(scene)
    assert tree is not None, "the compositor did not survive a save"
    denoise = next(node for node in tree.nodes if node.type == "DENOISE")
    seen["denoise"] = list(blender.denoise_options(denoise))
    seen["outputs"] = sorted(node.type for node in tree.nodes if node.type in blender.output_types)
    seen["composites"] = composites(scene)
    seen["denoises"] = compositor_denoises(scene)
    seen["overscan"] = overscan_of(scene)
    seen["shown"] = shown_layer(scene, multilayer=True)
    seen["reopened_format"] = blender.file_format(scene.render.image_settings)
    return seen


if __name__ == "__main__":
    print(json.dumps(check(Path(sys.argv[1]))))
