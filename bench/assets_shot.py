"""Build the assets benchmark's shot with bpy: `python -m bench.assets_shot OUT/shot.blend COUNT`.

A scene whose images are COUNT texture files beside it (`//textures/tex_0000.png` …); the files themselves are
written by the benchmark (their content does not matter to tracing or shipping, only their size does).
"""

from __future__ import annotations

import sys
from pathlib import Path

import bpy


def build(scene: Path, count: int) -> None:
    """Write a .blend that uses `count` textures by relative path."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.context.preferences.filepaths.save_version = 0
    scene.parent.mkdir(parents=True, exist_ok=True)
    bpy.ops.wm.save_as_mainfile(filepath=str(scene))
    for index in range(count):
        image = bpy.data.images.new(f"tex_{index:04d}", 4, 4)
        image.source = "FILE"
        image.filepath = f"//textures/tex_{index:04d}.png"
        image.use_fake_user = True  # kept in the file though no material uses it
    bpy.ops.wm.save_as_mainfile(filepath=str(scene))


if __name__ == "__main__":
    build(Path(sys.argv[1]).resolve(), int(sys.argv[2]))
