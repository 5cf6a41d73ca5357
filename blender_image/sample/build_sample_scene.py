"""Build the bundled sample scene: 24 frames of a turntable (a monkey, an orbiting ring, a few blocks), no assets.

Run with bpy installed: `python -m blender_image.sample.build_sample_scene OUT.blend`. This is a build tool, not
part of the worker: it is the only other place that imports bpy.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import bpy

from blender_image.compat import for_version

BLENDER = for_version(bpy.app.version)
FRAMES = 24


def _material(name: str, color: tuple[float, float, float], roughness: float = 0.4, metallic: float = 0.0):
    material = BLENDER.new_material(bpy.data, name)
    shader = material.node_tree.nodes["Principled BSDF"]
    shader.inputs["Base Color"].default_value = (*color, 1.0)
    shader.inputs["Roughness"].default_value = roughness
    shader.inputs["Metallic"].default_value = metallic
    material.diffuse_color = (*color, 1.0)  # what Workbench shows
    return material


def _assign(obj, material) -> None:
    obj.data.materials.clear()
    obj.data.materials.append(material)


def build(path: Path) -> None:
    """Write the sample scene to `path`."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.name = "Turntable"
    scene.frame_start, scene.frame_end = 1, FRAMES
    scene.render.fps = 24

    bpy.ops.mesh.primitive_plane_add(size=20, location=(0, 0, 0))
    _assign(bpy.context.object, _material("Floor", (0.8, 0.78, 0.74), roughness=0.8))

    bpy.ops.mesh.primitive_monkey_add(size=1.6, location=(0, 0, 1.1))
    monkey = bpy.context.object
    monkey.name = "Hero"
    modifier = monkey.modifiers.new("Smooth", "SUBSURF")
    modifier.levels = modifier.render_levels = 1
    bpy.ops.object.shade_smooth()
    _assign(monkey, _material("Orange", (0.9, 0.35, 0.08), roughness=0.3))
    monkey.rotation_euler = (0, 0, 0)
    monkey.keyframe_insert("rotation_euler", frame=1)
    monkey.rotation_euler = (0, 0, math.radians(360 * (FRAMES - 1) / FRAMES))
    monkey.keyframe_insert("rotation_euler", frame=FRAMES)

    bpy.ops.mesh.primitive_torus_add(major_radius=0.5, minor_radius=0.12, location=(2.2, 0, 1.0))
    ring = bpy.context.object
    ring.name = "Ring"
    _assign(ring, _material("Chrome", (0.9, 0.9, 0.95), roughness=0.15, metallic=1.0))
    for frame in (1, FRAMES):
        angle = math.tau * (frame - 1) / FRAMES
        ring.location = (2.2 * math.cos(angle), 2.2 * math.sin(angle), 1.0 + 0.4 * math.sin(2 * angle))
        ring.rotation_euler = (angle, angle / 2, 0)
        ring.keyframe_insert("location", frame=frame)
        ring.keyframe_insert("rotation_euler", frame=frame)
    # The ring orbits: key it at every frame so the path is a circle, not a straight line.
    for frame in range(2, FRAMES):
        angle = math.tau * (frame - 1) / FRAMES
        ring.location = (2.2 * math.cos(angle), 2.2 * math.sin(angle), 1.0 + 0.4 * math.sin(2 * angle))
        ring.keyframe_insert("location", frame=frame)

    palette = [(0.15, 0.45, 0.85), (0.2, 0.7, 0.35), (0.85, 0.2, 0.45)]
    for index, color in enumerate(palette):
        angle = math.tau * index / len(palette) + 0.5
        bpy.ops.mesh.primitive_cube_add(
            size=0.6, location=(3.6 * math.cos(angle), 3.6 * math.sin(angle), 0.3)
        )
        _assign(bpy.context.object, _material(f"Block{index}", color))

    bpy.ops.object.camera_add(location=(6.5, -6.5, 4.2))
    camera = bpy.context.object
    camera.data.lens = 55
    target = camera.constraints.new("TRACK_TO")
    bpy.ops.object.empty_add(location=(0, 0, 0.9))
    target.target = bpy.context.object
    scene.camera = camera

    bpy.ops.object.light_add(type="SUN", location=(4, -2, 8))
    sun = bpy.context.object
    sun.data.energy = 3.0
    sun.rotation_euler = (math.radians(40), math.radians(15), math.radians(30))
    bpy.ops.object.light_add(type="AREA", location=(-4, -3, 5))
    bpy.context.object.data.energy = 600
    bpy.context.object.data.size = 4

    world = BLENDER.new_world(bpy.data, "Sky")
    world.node_tree.nodes["Background"].inputs["Color"].default_value = (0.35, 0.45, 0.6, 1.0)
    world.node_tree.nodes["Background"].inputs["Strength"].default_value = 0.6
    scene.world = world

    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = 16
    scene.cycles.use_denoising = False
    scene.cycles.max_bounces = 4  # a preview-grade farm default: fewer bounces, no caustics
    scene.cycles.diffuse_bounces = scene.cycles.glossy_bounces = 2
    scene.cycles.caustics_reflective = scene.cycles.caustics_refractive = False
    scene.render.resolution_x, scene.render.resolution_y = 640, 360
    scene.render.resolution_percentage = 100
    scene.render.image_settings.file_format = "PNG"

    path.parent.mkdir(parents=True, exist_ok=True)
    bpy.ops.wm.save_as_mainfile(filepath=str(path.resolve()), compress=True)


if __name__ == "__main__":
    build(Path(sys.argv[1] if len(sys.argv) > 1 else "sample/turntable.blend"))
