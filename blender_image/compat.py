"""What differs between the Blenders the farm runs (4.5 LTS and 5.0): every bpy call that changed, one small class per
version (no bpy import here: the scene and bpy's data are handed in; `for_version(bpy.app.version)` picks one).

5.0 made every material and world a node tree (4.5's start without: `use_nodes`); it replaced `scene.node_tree`
(with `scene.use_nodes`) by a node group in `scene.compositing_node_group` whose Group Output is what the Composite
node was; the Denoise node's settings became input sockets; `image_settings.media_type` says image, multilayer image
or video, where 4.5 had one `file_format` list (`OPEN_EXR_MULTILAYER`, `FFMPEG`); and EEVEE's engine id went back
from `BLENDER_EEVEE_NEXT` to `BLENDER_EEVEE`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, ClassVar

MULTILAYER = "OPEN_EXR_MULTILAYER"
VIDEO = "FFMPEG"  # the only video format left in both
Visit = Callable[[Any, str, Any], "str | None"]  # a data-block, one of its paths, Blender's meta → a new path
EEVEE = "BLENDER_EEVEE"  # as jobs name it (`--engine BLENDER_EEVEE`), whatever the Blender calls it
# The Denoise node's settings as both versions take them: 4.5's enum identifiers → 5.0's menu item names.
PREFILTERS = {"NONE": "None", "FAST": "Fast", "ACCURATE": "Accurate"}
QUALITIES = {"FOLLOW_SCENE": "Follow Scene", "HIGH": "High", "BALANCED": "Balanced", "FAST": "Fast"}


class Blender50:
    """Blender 5.0: the compositor is a node group; formats are a media type and a file format."""

    version: ClassVar[tuple[int, int]] = (5, 0)
    output_types: ClassVar[tuple[str, ...]] = ("GROUP_OUTPUT",)  # what the compositor's result leaves through
    eevee: ClassVar[str] = "BLENDER_EEVEE"

    def new_material(self, data: Any, name: str) -> Any:
        """A material with its node tree (a Principled BSDF into the output), as 5.0 makes every one."""
        return data.materials.new(name)

    def new_world(self, data: Any, name: str) -> Any:
        """A world with its node tree (a Background into the output)."""
        return data.worlds.new(name)

    def foreach_path(self, data: Any, visit: Visit) -> None:
        """Call `visit(block, path, meta)` for every file path a data-block keeps; a path it returns replaces it."""
        data.file_path_foreach(visit)

    def compositor(self, scene: Any) -> Any | None:
        """The scene's compositing node tree, None when it has none."""
        return getattr(scene, "compositing_node_group", None)

    def new_compositor(self, scene: Any, data: Any) -> Any:
        """An empty compositing node tree, made the scene's and switched on (`data` is `bpy.data`)."""
        tree = data.node_groups.new("Compositing", "CompositorNodeTree")
        scene.compositing_node_group = tree
        scene.render.use_compositing = True
        return tree

    def add_output(self, tree: Any, image: Any) -> Any:
        """The node that makes `image` (an output socket) the composite: the tree's Group Output."""
        tree.interface.new_socket("Image", in_out="OUTPUT", socket_type="NodeSocketColor")
        output = tree.nodes.new("NodeGroupOutput")
        tree.links.new(image, output.inputs[0])
        return output

    def set_denoise(
        self, node: Any, prefilter: str = "ACCURATE", quality: str = "FOLLOW_SCENE", hdr: bool = True
    ) -> None:
        """Set a Denoise node's options (4.5's identifiers: `ACCURATE`, `FOLLOW_SCENE`): input sockets in 5.0."""
        node.inputs["Prefilter"].default_value = PREFILTERS[prefilter]
        node.inputs["Quality"].default_value = QUALITIES[quality]
        node.inputs["HDR"].default_value = hdr

    def denoise_options(self, node: Any) -> tuple[str, str, bool]:
        """A Denoise node's prefilter, quality and HDR, as 4.5 names them."""
        return (
            _key(PREFILTERS, node.inputs["Prefilter"].default_value),
            _key(QUALITIES, node.inputs["Quality"].default_value),
            bool(node.inputs["HDR"].default_value),
        )

    def file_format(self, image_settings: Any) -> str:
        """The format frames are written in, in one word (`PNG`, `OPEN_EXR_MULTILAYER`, `FFMPEG`)."""
        if image_settings.media_type == "VIDEO":
            return VIDEO
        if image_settings.media_type == "MULTI_LAYER_IMAGE":
            return MULTILAYER
        return str(image_settings.file_format)

    def set_file_format(self, image_settings: Any, file_format: str) -> None:
        """Write frames as `file_format` (`PNG`, `OPEN_EXR_MULTILAYER`…): the media type first, then the format."""
        kinds = {MULTILAYER: "MULTI_LAYER_IMAGE", VIDEO: "VIDEO"}
        image_settings.media_type = kinds.get(file_format, "IMAGE")
        image_settings.file_format = file_format

    def engine(self, name: str) -> str:
        """This Blender's id for the engine a job names (`BLENDER_EEVEE`)."""
        return self.eevee if name in (EEVEE, Blender45.eevee) else name

    def is_eevee(self, engine: str) -> bool:
        return engine == self.eevee


class Blender45(Blender50):
    """Blender 4.5 LTS: the compositor is the scene's own tree (`use_nodes`); one list of file formats."""

    version: ClassVar[tuple[int, int]] = (4, 5)
    output_types: ClassVar[tuple[str, ...]] = ("COMPOSITE",)
    eevee: ClassVar[str] = "BLENDER_EEVEE_NEXT"

    def new_material(self, data: Any, name: str) -> Any:
        material = data.materials.new(name)
        material.use_nodes = True  # 4.5 makes a material without nodes
        return material

    def new_world(self, data: Any, name: str) -> Any:
        world = data.worlds.new(name)
        world.use_nodes = True
        return world

    def foreach_path(self, data: Any, visit: Visit) -> None:
        # 4.5 has no file_path_foreach: its path map lists a linked block with its library's path, and only a
        # block's own `filepath` can be set (a strip's or a modifier's cache path is visited, not repointed).
        for block, paths in data.file_path_map(include_libraries=True).items():
            library = getattr(block, "library", None)
            own = paths - {library.filepath} if library is not None else paths
            for path in sorted(own):
                new = visit(block, path, None)
                if new is None or new == path:
                    continue
                if getattr(block, "filepath", None) == path:
                    block.filepath = new
                else:
                    print(f"studiobot: Blender 4.5 cannot repoint `{path}` of {block.name}", file=sys.stderr)

    def compositor(self, scene: Any) -> Any | None:
        return getattr(scene, "node_tree", None) if getattr(scene, "use_nodes", False) else None

    def new_compositor(self, scene: Any, data: Any) -> Any:
        scene.use_nodes = True
        tree = scene.node_tree
        tree.nodes.clear()  # 4.5 starts one with a Render Layers and a Composite node
        scene.render.use_compositing = True
        return tree

    def add_output(self, tree: Any, image: Any) -> Any:
        output = tree.nodes.new("CompositorNodeComposite")
        tree.links.new(image, output.inputs["Image"])
        return output

    def set_denoise(
        self, node: Any, prefilter: str = "ACCURATE", quality: str = "FOLLOW_SCENE", hdr: bool = True
    ) -> None:
        node.prefilter, node.quality, node.use_hdr = prefilter, quality, hdr

    def denoise_options(self, node: Any) -> tuple[str, str, bool]:
        return str(node.prefilter), str(node.quality), bool(node.use_hdr)

    def file_format(self, image_settings: Any) -> str:
        return str(image_settings.file_format)

    def set_file_format(self, image_settings: Any, file_format: str) -> None:
        image_settings.file_format = file_format


Compat = Blender50  # the type every version's layer has (4.5's overrides 5.0's)
LAYERS: tuple[type[Blender50], ...] = (Blender45, Blender50)


def for_version(version: tuple[int, ...]) -> Compat:
    """The layer for Blender `version` (`bpy.app.version`): the newest whose major.minor is not above it."""
    fitting = [layer for layer in LAYERS if layer.version <= tuple(version[:2])]
    if not fitting:
        supported = " and ".join(".".join(map(str, layer.version)) for layer in LAYERS)
        raise ValueError(f"Blender {'.'.join(map(str, version))} is older than the farm runs ({supported}).")
    return max(fitting, key=lambda layer: layer.version)()


def for_scene(scene: Any) -> Compat:
    """The layer for the Blender a scene (as bpy hands it) comes from: 5.0's scenes have a compositing node group."""
    return Blender50() if hasattr(scene, "compositing_node_group") else Blender45()


def composites(scene: Any) -> bool:
    """Whether the scene's frames are its compositor's output (on, with an output node not muted)."""
    if not scene.render.use_compositing:
        return False
    layer = for_scene(scene)
    nodes = getattr(layer.compositor(scene), "nodes", None) or []
    return any(
        getattr(node, "type", "") in layer.output_types and not getattr(node, "mute", False) for node in nodes
    )


def compositor_denoises(scene: Any) -> bool:
    """Whether the scene's compositor runs a Denoise node (not muted)."""
    if not scene.render.use_compositing:
        return False
    nodes = getattr(for_scene(scene).compositor(scene), "nodes", None) or []
    return any(getattr(node, "type", "") == "DENOISE" and not getattr(node, "mute", False) for node in nodes)


def _key(names: dict[str, str], value: str) -> str:
    return next((key for key, name in names.items() if name == value), value)
