"""Which view layer a frame's preview shows (no bpy import: the scene is handed in by `blender_image.blender`).

Blender's Render Result, which the proxy is saved from, holds the compositor's output when the scene composites,
else the first view layer: with several layers, the previews say which. A multilayer EXR frame of a scene that
composites nothing also gets a proxy per layer (`blender_image.layer_proxies`): the contact sheet has a row each.
"""

from __future__ import annotations

from typing import Any

from blender_image.compat import composites as _composites


def shown_layer(scene: Any, multilayer: bool = False) -> str:
    """What the preview shows, for the card (`composite of 2 view layers`, `view layer `A` (the first of 2…)`);
    "" when the scene renders one view layer. `multilayer`: the frames hold every layer (multilayer EXR)."""
    layers = [layer.name for layer in scene.view_layers if layer.use]
    if len(layers) < 2:
        return ""
    if _composites(scene):
        return f"composite of {len(layers)} view layers"
    if multilayer:
        return (
            f"{len(layers)} view layers, a row each on the contact sheet (the scene composites nothing; "
            f"the animation shows `{layers[0]}`)"
        )
    return f"view layer `{layers[0]}` (the first of {len(layers)}: the scene composites nothing)"


def layer_rows_of(scene: Any) -> list[str]:
    """The view layers a multilayer frame's contact sheet shows a row each of: every used one, when there are
    several and the scene composites nothing; none otherwise (one picture says it all)."""
    layers = [layer.name for layer in scene.view_layers if layer.use]
    return layers if len(layers) >= 2 and not _composites(scene) else []
