"""Which Blender renders a shot: the version that saved it (same major.minor) when the farm has it, else the nearest
newer one the farm has (with a ⚠), never an older one (refused, naming what the farm has); `--blender X` overrides.

Plain logic: the farm's versions come from the deployment (`blenderVersions`, `studiobot up --blender`), the saved
version from the shot's manifest. Blender opens files from older versions, but a file saved by a newer one may use
data the older cannot read (Blender keeps backward, not forward, compatibility).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from backend.errors import ValidationError

DEFAULT_BLENDER = (
    "5.0"  # the farm's one version unless the deployment names more (the render image's bpy 5.0.1)
)
_VERSION = re.compile(r"^([0-9]+)\.([0-9]+)")


def major_minor(version: str) -> tuple[int, int] | None:
    """`5.0` for `5.0.1`, `5.0` or `5.0 LTS`; None for what is no version (`""`, `unknown`)."""
    found = _VERSION.match(version.strip())
    return (int(found.group(1)), int(found.group(2))) if found else None


def short(version: str) -> str:
    """A version as the farm names its classes: major.minor (`4.5` for `4.5.15`); as given when no version."""
    parts = major_minor(version)
    return f"{parts[0]}.{parts[1]}" if parts else version


def parse_versions(text: str) -> tuple[str, ...]:
    """The farm's versions from `4.5,5.0` (spaces or commas; oldest first, each once); ValidationError on a
    word that is no version."""
    words = [word for word in re.split(r"[,\s]+", text.strip()) if word]
    bad = [word for word in words if major_minor(word) is None]
    if bad or not words:
        raise ValidationError(
            f"`{text}` does not name Blender versions: give major.minor ones, e.g. `4.5,5.0`."
        )
    return tuple(sorted({short(word) for word in words}, key=lambda word: major_minor(word) or (0, 0)))


def farm_text(farm: Sequence[str]) -> str:
    """`5.0`, `4.5 and 5.0`, `4.2, 4.5 and 5.0`."""
    return farm[0] if len(farm) == 1 else ", ".join(farm[:-1]) + " and " + farm[-1]


@dataclass(frozen=True)
class Route:
    """The Blender a job renders with, and why."""

    blender: str  # the farm's version that renders it: `4.5`
    saved_by: str  # the version that saved the shot, as the manifest says (`4.4`; "" when unknown)
    overridden: bool = False  # `--blender` chose it

    @property
    def note(self) -> str:
        """⚠ for the card when the renderer is not the saver: `saved by 4.4, rendered by 4.5`; "" otherwise."""
        return rendered_note(self.saved_by, self.blender)


def rendered_note(saved_by: str, blender: str) -> str:
    """`saved by 4.4, rendered by 4.5` when the two differ (by major.minor); "" when they match or one is unknown."""
    saved, rendering = major_minor(saved_by), major_minor(blender)
    if saved is None or rendering is None or saved == rendering:
        return ""
    return f"saved by {short(saved_by)}, rendered by {short(blender)}"


def route(scene: str, saved_by: str, farm: Sequence[str], override: str | None = None) -> Route:
    """The farm's Blender for a shot saved by `saved_by`; ValidationError when the farm has none fit for it."""
    if not farm:
        raise ValueError("a farm has at least one Blender")
    ordered = parse_versions(",".join(farm))
    saved = major_minor(saved_by)
    if override:
        chosen = short(override)
        if chosen not in ordered:
            raise ValidationError(
                f"`--blender {override}`: this farm renders with Blender {farm_text(ordered)}: pick one of those."
            )
        if saved is not None and saved > (major_minor(chosen) or (0, 0)):
            raise ValidationError(
                _too_new(scene, saved_by, ordered, f"the Blender `--blender` names ({chosen})")
            )
        return Route(blender=chosen, saved_by=saved_by, overridden=True)
    if saved is None:  # a manifest from before versions were recorded: the farm's newest, as before
        return Route(blender=ordered[-1], saved_by=saved_by)
    fitting = [version for version in ordered if (major_minor(version) or (0, 0)) >= saved]
    if not fitting:
        raise ValidationError(_too_new(scene, saved_by, ordered, f"the farm's {farm_text(ordered)}"))
    return Route(blender=fitting[0], saved_by=saved_by)


def _too_new(scene: str, saved_by: str, farm: Sequence[str], than: str) -> str:
    newest = farm[-1]
    return (
        f"`{scene}` was saved by Blender {short(saved_by)}, newer than {than}: a newer file may lose data in an "
        f"older Blender. Save it from Blender {newest} (File ▸ Save As), or ask an admin to add Blender "
        f"{short(saved_by)} to the farm (`blenderVersions`)."
    )
