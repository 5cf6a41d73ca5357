"""`studiobot upload shot.blend` (and `render` of a local file): trace the shot, refuse what is missing, ship it."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer
from blender_asset_tracer.blendfile.exceptions import BlendFileError
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from backend.config import Settings
from backend.errors import StudiobotError
from backend.render.manifest import FARM_BLENDER, missing_text, newer_than_farm
from backend.render.scene_range import frames_text, scene_frame_range
from backend.render.shipping import NameTaken, Shipped, ShotShipper, shot_key
from backend.render.shots import hash_files, trace_shot
from entry.wiring import Services
from local.cli.terminal import as_operator, console, fail, stack


def ship(
    settings: Settings,
    scene: Path,
    allow_missing: bool = False,
    name: str = "",
    replace: bool = False,
    command: str = "",
) -> Shipped:
    """Trace `scene`, refuse (before sending anything) if files are missing unless allowed, send what the bucket
    lacks with a progress bar, and say what was sent. `name` is the shot's name in the bucket (its folder's);
    `command` the one typed, shown again in a refusal (default `studiobot upload SCENE`)."""
    try:
        key = shot_key(scene, settings.scenes_prefix, name)  # a name, never a path: refused before tracing
    except StudiobotError as error:
        raise fail(str(error)) from None
    try:
        with console.status(f"Tracing {scene}…"):
            trace = trace_shot(scene)
    except (BlendFileError, OSError) as error:  # not a .blend (a half-copied file, another program's)
        raise fail(
            f"`{scene}` could not be read as a Blender file ({error}): open it in Blender and save it again, "
            f"or give the shot's own .blend."
        ) from None
    if newer_than_farm(trace.blender):
        raise fail(
            f"`{trace.scene}` was saved by Blender {trace.blender}, newer than the farm's {FARM_BLENDER}: save it "
            f"from Blender {FARM_BLENDER} (File ▸ Save As), or ask an admin to update the render image."
        )
    if trace.missing and not allow_missing:
        raise fail(missing_text(trace.missing, trace.scene))
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        hashing = progress.add_task(f"Hashing {len(trace.files)} files", total=trace.total_bytes)
        hashes = hash_files(trace, lambda size: progress.advance(hashing, size))
        manifest = trace.manifest(hashes)
        sending = progress.add_task("Sending what the bucket lacks", total=manifest.total_bytes)
        shipper = ShotShipper(Services(settings).store, settings.scenes_bucket, settings.scenes_prefix)
        try:
            shipped = shipper.ship(
                trace, manifest, key, lambda size: progress.advance(sending, size), replace=replace
            )
        except (
            NameTaken
        ) as taken:  # another folder's shot under the name: the way out, with the path as typed
            progress.stop()
            raise fail(taken.sentence(shlex.quote(str(scene)), command)) from None
        except StudiobotError as error:  # one shipped meanwhile
            progress.stop()
            raise fail(str(error)) from None
    console.print(
        f"Shot [bold]{shipped.scene_key}[/bold]: {len(manifest.files)} file(s), {_size(manifest.total_bytes)}; "
        f"sent {shipped.files_sent} ({_size(shipped.bytes_sent)}), {shipped.files_kept} already in the bucket."
    )
    if manifest.missing:
        console.print(f"⚠ {missing_text(manifest.missing, manifest.scene)}", markup=False)
    return shipped


def upload(
    scene: Annotated[Path, typer.Argument(help="The shot's .blend, in its shot folder.")],
    name: Annotated[
        str,
        typer.Option("--as", help="The shot's name in the bucket, e.g. projB/sh010 (default: its folder's)."),
    ] = "",
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace a shot of the same name shipped from another folder.")
    ] = False,
    allow_missing: Annotated[
        bool,
        typer.Option("--allow-missing", help="Ship it although files it uses are missing (renders magenta)."),
    ] = False,
) -> None:
    """Ship a shot to the scenes bucket: the .blend and every file it uses, each stored once by content."""
    if scene.suffix.lower() != ".blend" or not scene.is_file():
        raise fail(
            f"`{scene}` is not a .blend file here: give the shot's .blend, e.g. `shots/sh010/shot.blend`."
        )
    settings = as_operator(stack().settings())
    command = shlex.join(["studiobot", "upload", str(scene)])
    shipped = ship(settings, scene, allow_missing=allow_missing, name=name, replace=replace, command=command)
    console.print(
        f"Render it with: {render_command(scene, name, allow_missing and bool(shipped.manifest.missing))}",
        markup=False,
        soft_wrap=True,  # one line, never broken inside the command
    )


def render_command(scene: Path, name: str = "", allow_missing: bool = False) -> str:
    """`studiobot render 'my shots/sh 010/shot.blend' 1-48 --as projB/sh010`: the shot as uploaded, its own frames."""
    words = ["studiobot", "render", str(scene), frames_text(scene_frame_range(scene))]
    words += ["--as", name] if name else []
    words += ["--allow-missing"] if allow_missing else []
    return shlex.join(words)


def _size(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1000  # type: ignore[assignment]
    return f"{size} B"
