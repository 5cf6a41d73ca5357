"""The render task contract: what one SQS message asks a render worker to do, and the settings it carries."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

ENGINES = ("CYCLES", "BLENDER_WORKBENCH", "BLENDER_EEVEE")
FORMATS = {"PNG": ".png", "JPEG": ".jpg", "OPEN_EXR": ".exr", "OPEN_EXR_MULTILAYER": ".exr"}
PROXIES = "proxies/"  # under a job's output prefix: one small 8-bit PNG per frame, whatever the format
TILES = "tiles/"  # in the outputs bucket: tiles rendered and not yet stitched into their frame
CPU, GPU = "cpu", "gpu"
RENDER_CLASSES = (CPU, GPU)
TASK_VERSION = 1


@dataclass(frozen=True)
class RenderSettings:
    """Overrides applied to the scene before rendering; None keeps what the scene file says."""

    resolution: tuple[int, int] | None = None
    samples: int | None = None
    engine: str | None = None
    file_format: str | None = None  # None: the format the scene renders to (multilayer EXR stays multilayer)
    chunk: int = 1
    # columns × rows: each frame rendered as that many tasks, then stitched
    tiles: tuple[int, int] | None = None
    # `--tiles auto`: always probe, and tile when the probes say a frame will not fit
    tiles_auto: bool = False
    render_class: str = "cpu"  # `cpu`: the render Lambda; `gpu`: render nodes (`--on gpu`)
    # A retry of a frame the watchdog stopped: the frame takes longer than this whole, whatever a small look says
    at_least_s: float = 0.0
    # The Blender that renders it (`4.5`; `backend.render.blenders` routes a shot to it) and the one that saved the
    # shot; on a request, `blender` is `--blender` (an override). "" where not known: the farm's default.
    blender: str = ""
    saved_by: str = ""

    @property
    def extension(self) -> str:
        """File extension Blender writes for this format (empty while the scene decides)."""
        return FORMATS.get(self.file_format or "", "")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["resolution"] = list(self.resolution) if self.resolution else None
        data["tiles"] = list(self.tiles) if self.tiles else None
        for unsaid in ("blender", "saved_by"):  # a default farm's tasks and jobs read as they always did
            if not data[unsaid]:
                del data[unsaid]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RenderSettings:
        resolution = data.get("resolution")
        return cls(
            resolution=(int(resolution[0]), int(resolution[1])) if resolution else None,
            samples=data.get("samples"),
            engine=data.get("engine"),
            file_format=data.get("file_format"),
            chunk=int(data.get("chunk", 1)),
            tiles=(int(tiles[0]), int(tiles[1])) if (tiles := data.get("tiles")) else None,
            tiles_auto=bool(data.get("tiles_auto", False)),
            render_class=str(data.get("render_class") or CPU),
            at_least_s=float(data.get("at_least_s") or 0.0),
            blender=str(data.get("blender") or ""),
            saved_by=str(data.get("saved_by") or ""),
        )


class UnreadableTask(ValueError):
    """A queue message that is no render task of this version: no delivery will ever render it."""


@dataclass(frozen=True)
class RenderTask:
    """One SQS message: render these frames of this exact scene version. Replaying it has no extra effect."""

    job_id: str
    task_index: int
    scene_bucket: str
    scene_key: str
    scene_etag: str
    frames: tuple[int, ...]
    settings: RenderSettings
    output_bucket: str
    output_prefix: str
    assets_prefix: str | None = None
    manifest_key: str | None = None  # the shot's manifest: the worker lays out every file it lists
    manifest_etag: str | None = None
    allow_missing: bool = False  # the submitter chose to render without the shot's missing files
    probe: bool = False  # a probe frame: a Blender error fails the job at once instead of being retried
    tile: int | None = None  # one tile of its one frame (`settings.tiles` is the grid), else whole frames
    generation: int = (
        0  # the job's when it was sent: older than the job's after a hold, resume or new priority
    )
    version: int = field(default=TASK_VERSION)

    def output_key(self, frame: int, extension: str | None = None) -> str:
        """`outputs/<job>/<scene_stem>_0001.png`: Blender's 4-digit convention (the extension it wrote)."""
        suffix = extension if extension is not None else self.settings.extension
        return f"{self.output_prefix}{scene_stem(self.scene_key)}_{frame:04d}{suffix}"

    def proxy_key(self, frame: int) -> str:
        """`outputs/<job>/proxies/<scene_stem>_0001.png`: the frame's small 8-bit picture."""
        return f"{self.output_prefix}{PROXIES}{scene_stem(self.scene_key)}_{frame:04d}.png"

    def tile_key(self, frame: int, tile: int, extension: str, proxy: bool = False) -> str:
        """`tiles/<job>/shot_0001_t03.exr`: a tile waiting to be stitched (outside the job's outputs; the bucket
        lets them expire if a stitch never comes)."""
        tail = ".proxy.png" if proxy else extension
        return f"{TILES}{self.job_id}/{scene_stem(self.scene_key)}_{frame:04d}_t{tile:02d}{tail}"

    def to_json(self) -> str:
        data = asdict(self)
        data["frames"] = list(self.frames)
        data["settings"] = self.settings.to_dict()
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, body: str) -> RenderTask:
        """The task a queue message carries; `UnreadableTask` for anything that is not one of this version."""
        try:
            return cls._from_json(body)
        except UnreadableTask:
            raise
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise UnreadableTask(f"not a render task ({type(error).__name__}: {str(error)[:200]})") from error

    @classmethod
    def _from_json(cls, body: str) -> RenderTask:
        data = json.loads(body)
        if not isinstance(data, dict):
            raise UnreadableTask(f"not a render task (a JSON {type(data).__name__})")
        if data.get("version") != TASK_VERSION:
            raise UnreadableTask(f"unsupported task version {str(data.get('version'))[:20]!r}")
        texts = ("job_id", "scene_bucket", "scene_key", "scene_etag", "output_bucket", "output_prefix")
        types: dict[str, type] = {**dict.fromkeys(texts, str), "frames": list, "settings": dict}
        wrong = [name for name, kind in types.items() if not isinstance(data.get(name), kind)]
        if wrong:
            raise UnreadableTask(f"not a render task (missing or of the wrong type: {', '.join(wrong)})")
        return cls(
            job_id=data["job_id"],
            task_index=int(data["task_index"]),
            scene_bucket=data["scene_bucket"],
            scene_key=data["scene_key"],
            scene_etag=data["scene_etag"],
            frames=tuple(int(frame) for frame in data["frames"]),
            settings=RenderSettings.from_dict(data["settings"]),
            output_bucket=data["output_bucket"],
            output_prefix=data["output_prefix"],
            assets_prefix=data.get("assets_prefix"),
            manifest_key=data.get("manifest_key"),
            manifest_etag=data.get("manifest_etag"),
            allow_missing=bool(data.get("allow_missing", False)),
            probe=bool(data.get("probe", False)),
            tile=int(data["tile"]) if data.get("tile") is not None else None,
            generation=int(data.get("generation") or 0),
        )


def scene_stem(scene_key: str) -> str:
    """`scenes/shot010/shot.blend` → `shot`."""
    name = scene_key.rsplit("/", 1)[-1]
    return name[: -len(".blend")] if name.endswith(".blend") else name
