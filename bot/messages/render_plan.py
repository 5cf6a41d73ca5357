"""What a render will do, in words: a dry run's plan, a job's settings on one line, and its frames in a sentence."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from backend.render.estimates import duration
from backend.render.frames import compact
from backend.render.tasks import RenderSettings
from backend.render.tiles import grid_text, tile_count
from bot.messages.text import KEY_CHARS, MESSAGE_TEXT, NAME_CHARS, REASON_CHARS, clip, cut, escape

if TYPE_CHECKING:  # the ack path imports job cards: nothing here may load boto3
    from backend.render.records import Job
    from backend.render.submit import RenderPlan

SPEC_CHARS = 200  # a frame spec in a sentence: a retry's of scattered frames may run to thousands


def settings_text(settings: RenderSettings) -> str:
    """One line a person reads: `640×360 · CYCLES · 16 samples · PNG`."""
    parts = [
        f"{settings.resolution[0]}×{settings.resolution[1]}" if settings.resolution else "scene resolution",
        settings.engine or "scene engine",
        f"{settings.samples} samples" if settings.samples else "scene samples",
        settings.file_format or "scene format",
    ]
    if settings.chunk > 1:
        parts.append(f"{settings.chunk} frames per task")
    if settings.render_class != "cpu":
        parts.append(f"on {settings.render_class.upper()} nodes")
    if settings.tiles:
        parts.append(f"{grid_text(settings.tiles)} tiles per frame")
    elif settings.tiles_auto and settings.at_least_s:  # a retry of a frame the watchdog stopped
        parts.append(
            f"as tiles planned from a small look (a frame was stopped after {duration(settings.at_least_s)})"
        )
    elif settings.tiles_auto:
        parts.append("tiles if the probes say so")
    return " · ".join(parts)


def plan_text(plan: RenderPlan) -> str:
    """A short paragraph: the scene, the frames and tasks, the settings, the support files."""
    tasks = len(plan.tasks) * tile_count(plan.request.settings.tiles)
    lines = [
        f"Scene `{clip(plan.scene_key, KEY_CHARS, keep_end=True)}` (bucket `{clip(plan.scene_bucket, NAME_CHARS)}`)",
        f"Frames {spec_text(plan.request.frames.replace(' ', ''))} "
        f"({len(plan.frames):,} frame{'s' if len(plan.frames) != 1 else ''}) "
        f"in {tasks:,} task{'s' if tasks != 1 else ''}",
        f"Settings: {settings_text(plan.request.settings)}",
    ]
    if plan.request.assets_prefix:
        prefix = clip(plan.request.assets_prefix, KEY_CHARS, keep_end=True)
        lines.append(f"Support files: {len(plan.assets):,} under `{prefix}`")
    return "\n".join(lines)


def dry_run_text(plan: RenderPlan) -> str:
    """The answer to `--dry-run`: nothing was queued, and the plan."""
    return cut(f"*Dry run*, nothing was queued. This is what would run:\n{plan_text(plan)}", MESSAGE_TEXT)


def spec_text(spec: str, limit: int = SPEC_CHARS) -> str:
    """A frame spec for a sentence, escaped: whole when short, else its start up to a comma, then `…`."""
    shown = clip(spec, limit)
    if shown == escape(spec):
        return shown
    head, comma, _ = shown.rpartition(",")
    return f"{head},…" if comma else shown


def frames_text(frames: Sequence[int], limit: int = SPEC_CHARS) -> str:
    """Frames as a compact spec (`1-10,15`); when that runs long, its start and how many there are in all."""
    spec = compact(frames)
    shown = spec_text(spec, limit)
    return shown if shown == spec else f"{shown} ({len(frames):,} in all)"


def device_line(job: Job) -> str:
    """What the job renders on: `🖥️ GPU class · GPU · OptiX · NVIDIA L4`, or a GPU job's fall back to CPU."""
    device = clip(job.device, NAME_CHARS)
    if job.settings.render_class != "gpu":
        return f"🖥️ Rendered on {device}" if device and device != "CPU" else ""
    if not device:
        return "🖥️ GPU class: render nodes"
    if device.startswith("CPU"):
        return f"⚠️ Asked for a GPU (`--on gpu`), rendered on the {device}"
    return f"🖥️ GPU class · {device}"


def tiles_fact(job: Job) -> str:
    """`🧩 Re-planned as 4×3 tiles: why`, or `🧩 4×4 tiles a frame` when they were asked for."""
    if not job.settings.tiles:
        return ""
    grid = grid_text(job.settings.tiles)
    if job.replanned:
        return f"🧩 Re-planned as {grid} tiles: {clip(job.replanned, REASON_CHARS)}"
    return f"🧩 {grid} tiles a frame"


def tiles_line(job: Job, shown: int = 8) -> str:
    """A tiled job's frames in flight and their tiles done: `🧩 4×4 tiles a frame · frame 12: 9/16 · …`."""
    if not job.settings.tiles:
        return ""
    per_frame = tile_count(job.settings.tiles)
    line = tiles_fact(job)
    if job.status.is_final:
        return line
    flight = sorted(job.tile_counts.items())
    parts = [f"frame {frame}: {done}/{per_frame}" for frame, done in flight[:shown]]
    if len(flight) > shown:
        parts.append(f"…and {len(flight) - shown:,} more frames")
    return " · ".join([line, *parts])
