"""What a render will do, in words: a dry run's plan, and a job's settings on one line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from backend.render.tasks import RenderSettings

if TYPE_CHECKING:  # the ack path imports job cards: nothing here may load boto3
    from backend.render.submit import RenderPlan


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
    return " · ".join(parts)


def plan_text(plan: RenderPlan) -> str:
    """A short paragraph: the scene, the frames and tasks, the settings, the support files."""
    lines = [
        f"Scene `{plan.scene_key}` (bucket `{plan.scene_bucket}`)",
        f"Frames {plan.request.frames.replace(' ', '')} "
        f"({len(plan.frames):,} frame{'s' if len(plan.frames) != 1 else ''}) "
        f"in {len(plan.tasks):,} task{'s' if len(plan.tasks) != 1 else ''}",
        f"Settings: {settings_text(plan.request.settings)}",
    ]
    if plan.request.assets_prefix:
        lines.append(f"Support files: {len(plan.assets)} under `{plan.request.assets_prefix}`")
    return "\n".join(lines)
