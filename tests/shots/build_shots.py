"""Build small production-style shots with bpy, the way artists lay them out: `python -m tests.shots.build_shots OUT`.

OUT/textured/shot.blend          a texture beside the shot (textures/wood.png)
OUT/missing/shot.blend           the same shot with its texture gone
OUT/linked/shot.blend            a character linked from OUT/linked/lib/character.blend, with the library's own texture
OUT/compressed/shot.blend        the textured shot saved zstd-compressed
OUT/sequence/shot.blend          an image-sequence plate (plates/plate.0001.png … plate.0004.png)
OUT/elsewhere/shot.blend         a texture by absolute path outside the shot folder (OUT/studio_library/oak.png)
OUT/tiled/shot.blend             a UDIM texture (two tiles) and a sound, by absolute path in OUT/studio_library
OUT/other_textured/shot.blend    another shot whose textures/wood.png has different content
OUT/multilayer/shot.blend        the textured shot set to render multilayer EXR (what studios deliver)
OUT/nocamera/shot.blend          a shot whose camera was deleted
OUT/mounted/shot.blend           a prop linked from OUT/mounted/lib/prop.blend, whose textures lie outside the shot:
                                 bark.png by absolute path on a studio mount (OUT/mnt_projects/tex), leaf.png by a
                                 relative path leaving the library's folder (`//../../shared_tex/leaf.png`)
OUT/nested/shot.blend            a set linked from OUT/nested/lib/set.blend, which links a rock by absolute path from the
                                 studio mount (OUT/mnt_projects/assets/rock.blend, its texture by absolute path too)
OUT/udim_gap/shot.blend          a UDIM texture listing tiles 1001-1002 whose tile 1002 file is gone
OUT/sequence_gap/shot.blend      a 4-frame plate whose frame 3 is gone
OUT/sequence_short/shot.blend    a 2-frame plate in a 4-frame shot (extend: frames 3-4 hold frame 2)

Every shot renders a plane filling the camera with its texture (Workbench shows textures, cheaply): the colour of
the texture is what a frame shows, and Blender's missing-texture magenta is easy to spot.
"""

from __future__ import annotations

import shutil
import sys
import wave
from pathlib import Path

import bpy

from blender_image.compat import MULTILAYER, for_version

BLENDER = for_version(bpy.app.version)

WOOD = (0.55, 0.35, 0.15, 1.0)  # brown: what a textured frame shows
SKIN = (0.2, 0.6, 0.3, 1.0)  # green: the linked character's texture
OAK = (0.2, 0.3, 0.7, 1.0)  # blue: the studio library's texture
OTHER_WOOD = (0.8, 0.8, 0.1, 1.0)  # yellow: the other shot's wood.png
BARK = (0.6, 0.1, 0.1, 1.0)  # red: the mounted library's texture by absolute path (left half of the frame)
LEAF = (0.1, 0.7, 0.1, 1.0)  # green: its texture by a relative path leaving its folder (right half)
ROCK = (0.6, 0.4, 0.05, 1.0)  # orange: the rock a library links from the studio mount
CLOTH = (0.1, 0.6, 0.7, 1.0)  # cyan: UDIM tile 1001 of the studio library's cloth (tile 1002 is white)


def _png(path: Path, color: tuple[float, float, float, float], size: int = 8) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = bpy.data.images.new(path.stem, size, size)
    image.pixels = list(color) * (size * size)
    image.filepath_raw = str(path)
    image.file_format = "PNG"
    image.save()
    bpy.data.images.remove(image)


def _empty_scene(frames: int = 2) -> bpy.types.Scene:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.context.preferences.filepaths.save_version = 0  # factory settings bring the backups back
    scene = bpy.context.scene
    scene.frame_start, scene.frame_end = 1, frames
    scene.render.engine = "BLENDER_WORKBENCH"
    scene.display.shading.light = "FLAT"
    scene.display.shading.color_type = "TEXTURE"
    scene.render.resolution_x, scene.render.resolution_y = 32, 18
    scene.render.resolution_percentage = 100
    scene.view_settings.view_transform = "Standard"
    camera_data = bpy.data.cameras.new("Camera")
    camera_data.type = "ORTHO"
    camera_data.ortho_scale = 1.5
    camera = bpy.data.objects.new("Camera", camera_data)
    camera.location = (0, 0, 5)
    scene.collection.objects.link(camera)
    scene.camera = camera
    return scene


def _textured_plane(name: str, image: bpy.types.Image) -> bpy.types.Object:
    bpy.ops.mesh.primitive_plane_add(size=4, location=(0, 0, 0))
    plane = bpy.context.object
    plane.name = name
    material = BLENDER.new_material(bpy.data, name)
    nodes = material.node_tree.nodes
    texture = nodes.new("ShaderNodeTexImage")
    texture.image = image
    material.node_tree.links.new(texture.outputs["Color"], nodes["Principled BSDF"].inputs["Base Color"])
    plane.data.materials.append(material)
    return plane


def _save(path: Path, compress: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    bpy.ops.wm.save_as_mainfile(filepath=str(path), compress=compress, relative_remap=True)


def textured(folder: Path, color: tuple[float, float, float, float] = WOOD, compress: bool = False) -> Path:
    _png(folder / "textures" / "wood.png", color)
    _empty_scene()
    shot = folder / "shot.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(shot))  # saved first, so `//` paths are relative to it
    image = bpy.data.images.load(str(folder / "textures" / "wood.png"))
    image.filepath = "//textures/wood.png"
    _textured_plane("Wood", image)
    _save(shot, compress=compress)
    return shot


def linked(folder: Path) -> Path:
    library = folder / "lib" / "character.blend"
    _png(folder / "lib" / "textures" / "skin.png", SKIN)
    _empty_scene()
    bpy.ops.wm.save_as_mainfile(filepath=str(library))
    image = bpy.data.images.load(str(folder / "lib" / "textures" / "skin.png"))
    image.filepath = "//textures/skin.png"  # relative to the library, not to the shot
    character = _textured_plane("Character", image)
    collection = bpy.data.collections.new("Character")
    bpy.context.scene.collection.children.link(collection)
    for users in list(character.users_collection):
        users.objects.unlink(character)
    collection.objects.link(character)
    _save(library)

    _empty_scene()
    shot = folder / "shot.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(shot))
    with bpy.data.libraries.load(str(library), link=True, relative=True) as (_source, target):
        target.collections = ["Character"]
    instance = bpy.data.objects.new("Character", None)
    instance.instance_type = "COLLECTION"
    instance.instance_collection = target.collections[0]
    bpy.context.scene.collection.objects.link(instance)
    _save(shot)
    return shot


def sequence(folder: Path) -> Path:
    for frame in range(1, 5):
        _png(folder / "plates" / f"plate.{frame:04d}.png", (0.1 * frame, 0.2, 0.3, 1.0))
    _empty_scene(frames=4)
    shot = folder / "shot.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(shot))
    image = bpy.data.images.load(str(folder / "plates" / "plate.0001.png"))
    image.source = "SEQUENCE"
    image.filepath = "//plates/plate.0001.png"
    plane = _textured_plane("Plate", image)
    texture = next(node for node in plane.active_material.node_tree.nodes if node.type == "TEX_IMAGE")
    texture.image_user.frame_duration = 4
    texture.image_user.use_auto_refresh = True
    _save(shot)
    return shot


def elsewhere(folder: Path, library: Path) -> Path:
    _png(library / "oak.png", OAK)
    _empty_scene()
    folder.mkdir(parents=True, exist_ok=True)
    shot = folder / "shot.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(shot))
    image = bpy.data.images.load(str(library / "oak.png"))
    image.filepath = str((library / "oak.png").resolve())  # absolute, as a studio library often is
    _textured_plane("Oak", image)
    bpy.ops.wm.save_as_mainfile(filepath=str(shot), relative_remap=False)
    return shot


def tiled(folder: Path, library: Path) -> Path:
    """UDIM tiles and a sound from the studio library, by absolute path: the tiles must travel as a template."""
    _png(library / "tiles" / "cloth.1001.png", CLOTH)
    _png(library / "tiles" / "cloth.1002.png", (1.0, 1.0, 1.0, 1.0))
    with wave.open(str(library / "room_tone.wav"), "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(8000)
        sound.writeframes(b"\0\0" * 800)
    scene = _empty_scene()
    folder.mkdir(parents=True, exist_ok=True)
    shot = folder / "shot.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(shot))
    image = bpy.data.images.load(str((library / "tiles" / "cloth.1001.png").resolve()))
    image.source = "TILED"  # the path becomes `…/cloth.<UDIM>.png`
    _textured_plane("Cloth", image)
    speaker = bpy.data.speakers.new("Room")
    speaker.sound = bpy.data.sounds.load(str((library / "room_tone.wav").resolve()))
    scene.collection.objects.link(bpy.data.objects.new("Room", speaker))
    bpy.ops.wm.save_as_mainfile(filepath=str(shot), relative_remap=False)
    return shot


def multilayer(folder: Path) -> Path:
    shot = textured(folder)
    bpy.ops.wm.open_mainfile(filepath=str(shot))
    BLENDER.set_file_format(bpy.context.scene.render.image_settings, MULTILAYER)
    _save(shot)
    return shot


def nocamera(folder: Path) -> Path:
    shot = textured(folder)
    bpy.ops.wm.open_mainfile(filepath=str(shot))
    bpy.data.objects.remove(bpy.data.objects["Camera"])
    _save(shot)
    return shot


def mounted(folder: Path, mount: Path, shared: Path) -> Path:
    """A library whose own textures lie outside the shot: one on a studio mount, one up and out of its folder."""
    library = folder / "lib" / "prop.blend"
    _png(mount / "tex" / "bark.png", BARK)
    _png(shared / "leaf.png", LEAF)
    _empty_scene()
    _save(library)
    collection = bpy.data.collections.new("Prop")
    bpy.context.scene.collection.children.link(collection)
    written = {"bark": str((mount / "tex" / "bark.png").resolve()), "leaf": "//../../shared_tex/leaf.png"}
    for side, (name, path) in zip((-1, 1), written.items(), strict=True):
        image = bpy.data.images.load(
            str(mount / "tex" / "bark.png") if name == "bark" else str(shared / "leaf.png")
        )
        image.filepath = path
        plane = _textured_plane(name.title(), image)
        plane.scale = (0.5, 1, 1)
        plane.location.x = side
        for users in list(plane.users_collection):
            users.objects.unlink(plane)
        collection.objects.link(plane)
    bpy.ops.wm.save_as_mainfile(filepath=str(library), relative_remap=False)

    _empty_scene()
    shot = folder / "shot.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(shot))
    with bpy.data.libraries.load(str(library), link=True, relative=True) as (_source, target):
        target.collections = ["Prop"]
    instance = bpy.data.objects.new("Prop", None)
    instance.instance_type = "COLLECTION"
    instance.instance_collection = target.collections[0]
    bpy.context.scene.collection.objects.link(instance)
    _save(shot)
    return shot


def _link_collection(library: Path, name: str, relative: bool) -> None:
    """Link collection `name` from `library` into the open file, instanced at the origin."""
    with bpy.data.libraries.load(str(library), link=True, relative=relative) as (_source, target):
        target.collections = [name]
    instance = bpy.data.objects.new(name, None)
    instance.instance_type = "COLLECTION"
    instance.instance_collection = target.collections[0]
    bpy.context.scene.collection.objects.link(instance)


def nested(folder: Path, mount: Path) -> Path:
    """Two levels of libraries: the shot's set links a rock from the studio mount by absolute path."""
    rock = mount / "assets" / "rock.blend"
    _png(mount / "assets" / "tex" / "rock.png", ROCK)
    _empty_scene()
    _save(rock)
    image = bpy.data.images.load(str(mount / "assets" / "tex" / "rock.png"))
    image.filepath = str((mount / "assets" / "tex" / "rock.png").resolve())  # the mount's own absolute path
    plane = _textured_plane("Rock", image)
    collection = bpy.data.collections.new("Rock")
    bpy.context.scene.collection.children.link(collection)
    for users in list(plane.users_collection):
        users.objects.unlink(plane)
    collection.objects.link(plane)
    bpy.ops.wm.save_as_mainfile(filepath=str(rock), relative_remap=False)

    library = folder / "lib" / "set.blend"
    _empty_scene()
    _save(library)
    _link_collection(rock.resolve(), "Rock", relative=False)  # absolute: the mount is the same on every desk
    bpy.context.scene.collection.children.link(bpy.data.collections.new("Set"))
    instance = bpy.data.objects["Rock"]
    bpy.context.scene.collection.objects.unlink(instance)
    bpy.data.collections["Set"].objects.link(instance)
    bpy.ops.wm.save_as_mainfile(filepath=str(library), relative_remap=False)

    _empty_scene()
    shot = folder / "shot.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(shot))
    _link_collection(library, "Set", relative=True)
    _save(shot)
    return shot


def udim_gap(folder: Path) -> Path:
    """A UDIM set whose .blend lists tiles 1001 and 1002; the file of tile 1002 is then lost."""
    _png(folder / "textures" / "wood.1001.png", WOOD)
    _png(folder / "textures" / "wood.1002.png", WOOD)
    _empty_scene()
    shot = folder / "shot.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(shot))
    image = bpy.data.images.load(str(folder / "textures" / "wood.1001.png"))
    image.source = "TILED"  # tiles 1001 and 1002, found on disk
    image.name = "wood"
    image.filepath = "//textures/wood.<UDIM>.png"
    _textured_plane("Wood", image)
    _save(shot)
    (folder / "textures" / "wood.1002.png").unlink()
    return shot


def plate(folder: Path, files: range, shot_frames: int = 4) -> Path:
    """An image-sequence plate `//plates/plate.####.png` of `files`, read by a shot of `shot_frames` frames
    through an image user of the same length as the files, extending past its end (Blender's default)."""
    for frame in files:
        _png(folder / "plates" / f"plate.{frame:04d}.png", WOOD)
    _empty_scene(frames=shot_frames)
    shot = folder / "shot.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(shot))
    image = bpy.data.images.load(str(folder / "plates" / f"plate.{files.start:04d}.png"))
    image.source = "SEQUENCE"
    image.name = "plate"
    image.filepath = f"//plates/plate.{files.start:04d}.png"
    plane = _textured_plane("Plate", image)
    texture = next(node for node in plane.active_material.node_tree.nodes if node.type == "TEX_IMAGE")
    texture.image_user.frame_duration = len(files)
    texture.image_user.frame_start = 1
    texture.image_user.frame_offset = files.start - 1
    texture.image_user.use_auto_refresh = True
    _save(shot)
    return shot


def build(out: Path) -> None:
    """Write every shot under `out`."""
    bpy.context.preferences.filepaths.save_version = 0  # no `shot.blend1` backups beside the shots
    textured(out / "textured")
    textured(out / "missing")
    shutil.rmtree(out / "missing" / "textures")
    linked(out / "linked")
    textured(out / "compressed", compress=True)
    sequence(out / "sequence")
    elsewhere(out / "elsewhere", out / "studio_library")
    tiled(out / "tiled", out / "studio_library")
    textured(out / "other_textured", color=OTHER_WOOD)
    multilayer(out / "multilayer")
    nocamera(out / "nocamera")
    mounted(out / "mounted", out / "mnt_projects", out / "shared_tex")
    nested(out / "nested", out / "mnt_projects")
    udim_gap(out / "udim_gap")
    plate(out / "sequence_gap", range(1, 5))
    (out / "sequence_gap" / "plates" / "plate.0003.png").unlink()
    plate(out / "sequence_short", range(1, 3))


if __name__ == "__main__":
    build(Path(sys.argv[1]).resolve())
