"""Build a shot rendering plain EXR at 25 fps: `python -m tests.shots.build_dailies OUT`.

OUT/exr25/shot.blend    the textured shot (a brown plane filling the camera, `Standard` view transform), three
                        frames of OPEN_EXR at 25 fps: its dailies show the frames as Blender shows them, at its rate
"""

from __future__ import annotations

import sys
from pathlib import Path

import bpy

from tests.shots.build_shots import _save, textured


def exr25(folder: Path) -> Path:
    shot = textured(folder)
    bpy.ops.wm.open_mainfile(filepath=str(shot))
    scene = bpy.context.scene
    scene.frame_end = 3
    scene.render.fps, scene.render.fps_base = 25, 1.0
    scene.render.image_settings.file_format = "OPEN_EXR"
    _save(shot)
    return shot


if __name__ == "__main__":
    bpy.context.preferences.filepaths.save_version = 0
    exr25(Path(sys.argv[1]).resolve() / "exr25")
