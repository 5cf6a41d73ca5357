"""Build the tiles benchmark's scene with bpy: `python -m bench.tiles_scene OUT.blend [--res WxH] [--samples N] [--denoise]`.

A wall of glass and metal spheres, jittered so no row or column lines up with a tile border, in front of a
procedural noise wall, filling the camera's view: every part of the frame costs about the same (so the
slowest of 16 tiles is near a 16th of the frame) while the scene itself is small (its sync and BVH build take a
fraction of a second, which every tile pays again).
"""

from __future__ import annotations

import argparse
import math
import random
from pathlib import Path

import bpy

RESOLUTION = (1280, 720)  # the defaults; bench/tiles.py passes its own
SAMPLES = 20
COLUMNS, ROWS = 14, 8  # spheres, one unit apart; the camera sees VIEW_WIDTH of them across
VIEW_WIDTH = 12.4
# The grid sits off the frame's centre and every sphere is jittered: no row or column of spheres lines up with
# the tile borders (at ½, ¼, ¾ of the frame), so the borders see the same mix of pixels as the rest of the frame.
OFFSET = (0.31, 0.23)
JITTER = 0.3
SEED = 7  # the spheres' jitter: the same scene every run


def _glass(name: str, roughness: float) -> bpy.types.Material:
    material = bpy.data.materials.new(name)
    shader = material.node_tree.nodes["Principled BSDF"]
    shader.inputs["Base Color"].default_value = (0.95, 0.97, 1.0, 1.0)
    shader.inputs["Roughness"].default_value = roughness
    shader.inputs["Transmission Weight"].default_value = 1.0
    shader.inputs["IOR"].default_value = 1.45
    return material


def _metal(name: str, color: tuple[float, float, float], roughness: float) -> bpy.types.Material:
    material = bpy.data.materials.new(name)
    shader = material.node_tree.nodes["Principled BSDF"]
    shader.inputs["Base Color"].default_value = (*color, 1.0)
    shader.inputs["Roughness"].default_value = roughness
    shader.inputs["Metallic"].default_value = 1.0
    return material


def _wall() -> bpy.types.Material:
    """A rough, bumpy, two-colour noise: costly to shade everywhere, and detailed at every scale."""
    material = bpy.data.materials.new("Wall")
    nodes, links = material.node_tree.nodes, material.node_tree.links
    shader = nodes["Principled BSDF"]
    noise = nodes.new("ShaderNodeTexNoise")
    noise.inputs["Scale"].default_value = 6.0
    noise.inputs["Detail"].default_value = 4.0
    ramp = nodes.new("ShaderNodeValToRGB")
    ramp.color_ramp.elements[0].color = (0.55, 0.18, 0.08, 1.0)
    ramp.color_ramp.elements[1].color = (0.85, 0.8, 0.65, 1.0)
    links.new(noise.outputs["Fac"], ramp.inputs["Fac"])
    links.new(ramp.outputs["Color"], shader.inputs["Base Color"])
    shader.inputs["Roughness"].default_value = 0.45
    return material


def build(
    path: Path, resolution: tuple[int, int] = RESOLUTION, samples: int = SAMPLES, denoise: bool = False
) -> None:
    """Write the scene to `path`; `denoise`: Cycles denoises it with OpenImageDenoise."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.context.preferences.filepaths.save_version = 0
    scene = bpy.context.scene
    scene.name = "Tiles"
    random_numbers = random.Random(SEED)

    bpy.ops.mesh.primitive_plane_add(size=1, location=(0, 0, -1.0))
    wall = bpy.context.object
    wall.scale = (COLUMNS * 1.6, ROWS * 1.6, 1)
    wall.data.materials.append(_wall())

    bpy.ops.mesh.primitive_uv_sphere_add(segments=48, ring_count=24, radius=1.0)
    sphere = bpy.context.object
    bpy.ops.object.shade_smooth()
    materials = [
        _glass("Glass", 0.0),
        _glass("Frosted", 0.15),
        _metal("Gold", (1.0, 0.76, 0.33), 0.1),
        _metal("Steel", (0.8, 0.82, 0.85), 0.25),
    ]
    sphere.data.materials.append(materials[0])  # the slot each copy overrides with its own material
    for row in range(ROWS):
        for column in range(COLUMNS):
            x = column - (COLUMNS - 1) / 2 + OFFSET[0] + random_numbers.uniform(-JITTER, JITTER)
            y = row - (ROWS - 1) / 2 + OFFSET[1] + random_numbers.uniform(-JITTER, JITTER)
            copy = sphere.copy()  # linked: one mesh, instanced by Cycles
            copy.location = (x, y, random_numbers.uniform(-0.3, 0.3))
            copy.scale = (random_numbers.uniform(0.33, 0.48),) * 3
            copy.material_slots[0].link = "OBJECT"
            copy.material_slots[0].material = random_numbers.choice(materials)
            scene.collection.objects.link(copy)
    bpy.data.objects.remove(sphere)

    bpy.ops.object.camera_add(location=(0, 0, 10.0), rotation=(0, 0, 0))
    camera = bpy.context.object
    camera.data.lens = 50
    camera.data.sensor_fit = "HORIZONTAL"
    camera.data.sensor_width = camera.data.lens * VIEW_WIDTH / camera.location.z
    scene.camera = camera

    bpy.ops.object.light_add(type="AREA", location=(-4, 3, 8))
    key = bpy.context.object
    key.data.energy = 900
    key.data.size = 5
    key.rotation_euler = (math.radians(-20), math.radians(-25), 0)
    bpy.ops.object.light_add(type="SUN", location=(0, 0, 10))
    sun = bpy.context.object
    sun.data.energy = 1.5
    sun.rotation_euler = (math.radians(30), math.radians(20), 0)

    world = bpy.data.worlds.new("Sky")
    world.node_tree.nodes["Background"].inputs["Color"].default_value = (0.4, 0.5, 0.65, 1.0)
    world.node_tree.nodes["Background"].inputs["Strength"].default_value = 0.5
    scene.world = world

    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = samples  # adaptive sampling and its noise threshold as Blender's defaults
    scene.cycles.use_denoising = denoise
    scene.cycles.denoiser = "OPENIMAGEDENOISE"
    scene.cycles.max_bounces = 4
    scene.cycles.glossy_bounces = 2
    scene.cycles.transmission_bounces = 4
    scene.cycles.diffuse_bounces = 1
    scene.cycles.caustics_reflective = scene.cycles.caustics_refractive = False
    scene.render.resolution_x, scene.render.resolution_y = resolution
    scene.render.resolution_percentage = 100
    scene.render.image_settings.file_format = "PNG"
    scene.render.image_settings.color_depth = "8"

    path.parent.mkdir(parents=True, exist_ok=True)
    bpy.ops.wm.save_as_mainfile(filepath=str(path.resolve()))


def main() -> None:
    """Parse the command line and build the scene."""
    parser = argparse.ArgumentParser(prog="python -m bench.tiles_scene")
    parser.add_argument("out")
    parser.add_argument("--res", default=f"{RESOLUTION[0]}x{RESOLUTION[1]}")
    parser.add_argument("--samples", type=int, default=SAMPLES)
    parser.add_argument("--denoise", action="store_true")
    args = parser.parse_args()
    width, height = (int(part) for part in args.res.split("x"))
    build(Path(args.out), (width, height), args.samples, args.denoise)


if __name__ == "__main__":
    main()
