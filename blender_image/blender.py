"""The render module: the only worker code that imports bpy. Keeps one scene open across tasks of a job."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import bpy

from backend.render.previews import PICTURES, proxy_path
from backend.render.tasks import GPU, RenderSettings
from backend.render.tiles import Cut, Shape
from blender_image.compat import MULTILAYER, VIDEO, for_version
from blender_image.complaints import complaints
from blender_image.layer_proxies import ViewTransform, save_layer_proxies
from blender_image.layers import layer_rows_of, shown_layer
from blender_image.library_paths import remap_libraries
from blender_image.missing import Reader, missing_files, sequence_gaps, sequence_readers
from blender_image.regions import overscan_of, region
from blender_image.scene_cache import LIBRARY_REMAPS_FILE, REMAPS_FILE
from blender_image.worker import MissingFiles

BLENDER_LINES = 8  # what a failed frame's reason carries of Blender's own output
BLENDER = for_version(tuple(bpy.app.version))  # the calls that differ between the Blenders the farm runs


class BlenderRenderer:
    """Renders frames of a .blend file in this process, reopening the file only when the scene changes."""

    def __init__(self) -> None:
        self._open_path: Path | None = None
        self._missing: list[str] = []  # what the open scene lacks
        self._readers: list[Reader] = []  # the open scene's image sequences and their users
        self.opens = 0  # how many times a scene was opened, for tests and benchmarks
        self.cut: Cut | None = None  # how the last tile's frame was cut (its size, grid and overscan)
        self.device = (
            ""  # what rendered the last frame, as the card says it: `GPU · OptiX · NVIDIA L4`, `CPU`
        )
        self._gpu: tuple[str, list[str]] | bool | None = False  # False: not looked for yet
        self.preview_layer = ""  # which view layer the last frame's preview shows, when it has several
        self.fps = ""  # the frame rate of the scene the last frame was rendered from
        self.frame_shape: Shape | None = None  # the last measured frame's width, height and tiles' overscan

    def render(
        self,
        scene_path: Path,
        frame: int,
        settings: RenderSettings,
        out_stem: Path,
        allow_missing: bool = False,
        tile: int | None = None,
    ) -> Path:
        """Render one frame, or one tile of it (`settings.tiles` is the grid); return the written file
        (`<out_stem>_0001.png`, a tile `<out_stem>_0001_t03.png`). Raises RuntimeError on failure, with the last
        lines Blender printed (they also go on to this process's output: the log)."""
        said: deque[str] = deque(maxlen=BLENDER_LINES)
        flagged: list[str] = []
        try:
            with _blender_output(said, flagged):
                written = self._render(scene_path, frame, settings, out_stem, allow_missing, tile)
        except MissingFiles:
            raise
        except Exception as error:
            lines = [line.strip() for line in said if line.strip()]
            if not lines:
                raise
            raise RuntimeError(f"{error}. Blender said: " + " ⏎ ".join(lines)) from error
        if (
            flagged and not allow_missing
        ):  # what the checks before the frame did not see: never a ✅ in magenta
            raise MissingFiles(f"frame {frame}: Blender said " + " ⏎ ".join(flagged[:5]), frame_only=True)
        return written

    def measure(
        self,
        scene_path: Path,
        frame: int,
        settings: RenderSettings,
        scale: float,
        allow_missing: bool = False,
    ) -> tuple[float, float]:
        """Seconds Blender takes to render the frame at about `scale` of its width and height, nothing written,
        and the share of the frame's pixels that was: a probe's cheap look at a frame that may be too long."""
        said: deque[str] = deque(maxlen=BLENDER_LINES)
        with _blender_output(said):
            scene = self._open(scene_path, allow_missing)
            _apply(scene, settings)
            self._choose_device(scene, settings)  # measured on the device the frame will render on
            scene.frame_set(frame)
            kept = scene.render.resolution_percentage
            width, height = scene.render.resolution_x * kept // 100, scene.render.resolution_y * kept // 100
            self.frame_shape = (width, height, overscan_of(scene))
            scene.render.resolution_percentage = max(1, round(kept * scale))
            share = (scene.render.resolution_percentage / kept) ** 2
            try:
                started = time.perf_counter()
                bpy.ops.render.render(write_still=False, scene=scene.name)
                return time.perf_counter() - started, share
            finally:
                scene.render.resolution_percentage = kept

    def _choose_device(self, scene: bpy.types.Scene, settings: RenderSettings) -> None:
        """A `gpu` task renders Cycles on the best GPU backend this node has (OptiX, else CUDA, HIP, oneAPI,
        Metal), every device of it; with none, on the CPU, and `device` says so for the card."""
        if scene.render.engine != "CYCLES":
            self.device = (
                "CPU"
                if settings.render_class != GPU
                else f"CPU ({scene.render.engine} does not use a GPU here)"
            )
            return
        if settings.render_class != GPU:
            scene.cycles.device, self.device = "CPU", "CPU"
            return
        if self._gpu is False:
            self._gpu = gpu_devices()
        if not self._gpu:
            scene.cycles.device = "CPU"
            self.device = "CPU (no GPU device found on this node)"
            return
        kind, names = self._gpu  # type: ignore[misc]
        scene.cycles.device = "GPU"
        self.device = f"GPU · {BACKENDS[kind]} · {', '.join(dict.fromkeys(names))}"

    def _open(self, scene_path: Path, allow_missing: bool) -> bpy.types.Scene:
        """The scene, opened once per file (its paths remapped, what it lacks noted); MissingFiles unless allowed."""
        if self._open_path != scene_path:
            self._open_path = None
            # A shot is anyone's upload and a render node may be an artist's workstation: its scripts never run.
            bpy.ops.wm.open_mainfile(filepath=str(scene_path), load_ui=False, use_scripts=False)
            _remap(scene_path.parent / REMAPS_FILE)
            remap_libraries(scene_path.parent / LIBRARY_REMAPS_FILE)  # after any library was reloaded
            self._missing = missing_files()
            self._readers = sequence_readers()
            self._open_path = scene_path
            self.opens += 1
        if self._missing and not allow_missing:
            missing = self._missing
            raise MissingFiles("Blender cannot find " + "; ".join(missing[:20]) + _more(missing))
        scene = bpy.context.scene
        if scene.camera is None:
            raise RuntimeError(f"the scene `{scene.name}` has no active camera")
        return scene

    def _render(
        self,
        scene_path: Path,
        frame: int,
        settings: RenderSettings,
        out_stem: Path,
        allow_missing: bool,
        tile: int | None,
    ) -> Path:
        scene = self._open(scene_path, allow_missing)
        _apply(scene, settings)
        self._choose_device(scene, settings)
        scene.frame_set(frame)
        gaps = sequence_gaps(self._readers, frame)
        if gaps and not allow_missing:
            raise MissingFiles("Blender cannot find " + "; ".join(gaps[:20]) + _more(gaps), frame_only=True)
        with region(scene, settings, tile) as cut:
            scene.render.filepath = f"{out_stem}_"
            # `####` is written literally by write_still in Blender 5.0: ask Blender for the frame's path instead.
            target = Path(scene.render.frame_path(frame=frame))
            if cut is not None:
                target = target.with_name(f"{target.stem}_t{tile:02d}{target.suffix}")
                self.cut = cut
            scene.render.filepath = str(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            result = bpy.ops.render.render(write_still=True, scene=scene.name)
        if "FINISHED" not in result or not target.exists():
            raise RuntimeError(f"Blender did not write frame {frame} ({', '.join(result)})")
        multilayer = BLENDER.file_format(scene.render.image_settings) == MULTILAYER
        self.preview_layer = shown_layer(scene, multilayer and tile is None)
        self.fps = f"{scene.render.fps / scene.render.fps_base:.6g}"  # `23.976`: the dailies movie's rate
        try:
            if target.suffix.lower() not in PICTURES:  # PNG and JPEG frames are their own proxies' source
                _save_proxy(scene, proxy_path(target))
            if multilayer and tile is None and (layers := layer_rows_of(scene)):
                save_layer_proxies(target, layers, _view_transform(scene))  # the contact sheet's rows
        except Exception as error:  # the frame is written: previews fall back to what Pillow can read
            print(f"studiobot: no proxy for frame {frame}: {error!r}", file=sys.stderr)
        return target


@contextmanager
def _blender_output(said: deque[str], flagged: list[str] | None = None) -> Iterator[None]:
    """Keep the last lines Blender writes to stdout/stderr (C code: only a file descriptor catches it), and in
    `flagged` every line saying a file is not there; pass everything on to where it was going."""
    sys.stdout.flush()
    sys.stderr.flush()
    with tempfile.TemporaryFile() as capture:
        saved = os.dup(1), os.dup(2)
        os.dup2(capture.fileno(), 1)
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            capture.seek(0)
            output = capture.read()
            os.write(1, output)
            lines = output.decode("utf-8", "replace").splitlines()
            said.extend(lines)
            if flagged is not None:
                flagged.extend(complaints(lines))


BACKENDS = {"OPTIX": "OptiX", "CUDA": "CUDA", "HIP": "HIP", "ONEAPI": "oneAPI", "METAL": "Metal"}


def gpu_devices() -> tuple[str, list[str]] | None:
    """The best GPU backend Cycles finds here and its devices, every one of them enabled; None when there is no
    GPU (or this Blender was built without a backend for it)."""
    preferences = bpy.context.preferences.addons["cycles"].preferences
    for kind in BACKENDS:
        try:
            preferences.compute_device_type = kind
        except TypeError:  # not a backend of this build
            continue
        preferences.refresh_devices()
        found = [device for device in preferences.devices if device.type == kind]
        if found:
            for device in preferences.devices:
                device.use = device.type == kind
            return kind, [device.name for device in found]
    preferences.compute_device_type = "NONE"
    return None


def _remap(remaps_file: Path) -> None:
    """Point absolute paths from the artist's machine at where the shot's files lie here: every path Blender keeps
    (images, libraries, sounds, fonts, clips, caches, volumes, strips), as written in the scene's own data."""
    if not remaps_file.exists():
        return
    remaps = json.loads(remaps_file.read_text())
    moved: list[bpy.types.Library] = []

    def visit(block: bpy.types.ID, path: str, _meta: object) -> str | None:
        if block.library is not None:  # a linked block's paths belong to its library, laid out beside it
            return None
        new = remaps.get(path)
        if new is not None and isinstance(block, bpy.types.Library):
            moved.append(block)
        return new

    BLENDER.foreach_path(bpy.data, visit)
    for library in moved:
        library.reload()


def _more(missing: list[str]) -> str:
    return f"; …and {len(missing) - 20} more" if len(missing) > 20 else ""


def _save_proxy(scene: bpy.types.Scene, path: Path) -> None:
    """The frame as the artist sees it in Blender (the scene's view transform), as an 8-bit PNG: what previews
    show for any format, multilayer EXR included."""
    image, blender = scene.render.image_settings, BLENDER
    kept = (blender.file_format(image), image.color_depth, image.color_mode)
    try:
        blender.set_file_format(image, "PNG")
        image.color_depth, image.color_mode = "8", "RGB"
        bpy.data.images["Render Result"].save_render(filepath=str(path), scene=scene)
    finally:
        blender.set_file_format(image, kept[0])
        image.color_depth, image.color_mode = kept[1], kept[2]


def _view_transform(scene: bpy.types.Scene) -> ViewTransform:
    """The scene's colour management, with the OpenColorIO config this Blender uses."""
    view = scene.view_settings
    return ViewTransform(
        config=str(Path(bpy.utils.system_resource("DATAFILES")) / "colormanagement" / "config.ocio"),
        display=scene.display_settings.display_device,
        view=view.view_transform,
        look="" if view.look == "None" else view.look,
        exposure=view.exposure,
        gamma=view.gamma,
    )


def _apply(scene: bpy.types.Scene, settings: RenderSettings) -> None:
    render, blender = scene.render, BLENDER
    if settings.engine:
        render.engine = blender.engine(settings.engine)
    if settings.resolution:
        render.resolution_x, render.resolution_y = settings.resolution
        render.resolution_percentage = 100
    if settings.samples:
        if render.engine == "CYCLES":
            scene.cycles.samples = settings.samples
        elif blender.is_eevee(render.engine):
            scene.eevee.taa_render_samples = settings.samples
    if not settings.file_format and blender.file_format(render.image_settings) == VIDEO:
        # frames, one file each: a farm cannot write one movie
        blender.set_file_format(render.image_settings, "PNG")
    if settings.file_format:  # else the scene's own format (a multilayer EXR scene stays multilayer)
        blender.set_file_format(render.image_settings, settings.file_format)
    render.use_file_extension = True
