"""Which view layer a frame's preview shows (no bpy import: the scene is handed in by `blender_image.blender`).

Blender's Render Result, which the proxy is saved from, holds the compositor's output when the scene composites,
else the first view layer: with several layers, the previews say which.
"""

from __future__ import annotations

from typing import Any

OUTPUTS = (
    "GROUP_OUTPUT",
    "COMPOSITE",
)  # Blender 5.0's compositing node group output; the Composite node before


def shown_layer(scene: Any) -> str:
    """What the preview shows, for the card (`composite of 2 view layers`, `view layer `A` (the first of 2…)`);
    "" when the scene renders one view layer."""
    layers = [layer.name for layer in scene.view_layers if layer.use]
    if len(layers) < 2:
        return ""
    if _composites(scene):
        return f"composite of {len(layers)} view layers"
    return f"view layer `{layers[0]}` (the first of {len(layers)}: the scene composites nothing)"


def _composites(scene: Any) -> bool:
    if not scene.render.use_compositing:
        return False
    tree = getattr(scene, "compositing_node_group", None) or getattr(scene, "node_tree", None)
    nodes = getattr(tree, "nodes", None) or []
    return any(getattr(node, "type", "") in OUTPUTS and not getattr(node, "mute", False) for node in nodes)
