"""A shot's manifest: every file the scene uses, by its path in the shot, stored once by content hash.

The manifest lies beside the scene (`scenes/shot010/shot.blend.manifest.json`); the files lie under
`<scenes prefix>_cas/sha256/<hash>`, so a file two shots share is stored once, and two shots with a
`textures/wood.png` of different content never see each other's. Plain data: no AWS, no Blender.
"""

from __future__ import annotations

import glob
import json
from dataclasses import dataclass, field
from typing import Any

from backend.render.image_sets import ImageSet

MANIFEST_VERSION = 1
MANIFEST_SUFFIX = ".manifest.json"
CLAIM_SUFFIX = ".claim.json"
OUTSIDE = "_outside"  # where files from outside the shot folder (absolute paths) live in the shot
# The Blender the render image runs (bpy, pinned in pyproject.toml). Blender opens files from older versions, but a
# file saved by a newer one may use data the older cannot read (Blender keeps backward, not forward, compatibility).
FARM_BLENDER = "5.0"


@dataclass(frozen=True)
class FileEntry:
    """One file of the shot: its content hash and size."""

    sha256: str
    size: int


@dataclass(frozen=True)
class FileUse:
    """A file a .blend of the shot uses, as it writes it (in `missing`: one that was not there when traced)."""

    written_as: str  # as the .blend writes it: `//textures/wood.png`
    used_by: str  # `image wood.png`
    referrer: str  # the .blend that uses it, by its path in the shot
    # For a UDIM set or a sequence with some of its files there: what is not (`tiles 1001–1002 of …: 1002 is not
    # there`); empty for a file that is not there at all.
    gap: str = ""

    def to_dict(self) -> dict[str, str]:
        data = {"written_as": self.written_as, "used_by": self.used_by, "referrer": self.referrer}
        return data | ({"gap": self.gap} if self.gap else {})


@dataclass(frozen=True)
class Manifest:
    """What a render of the shot needs: the scene, every file by its path in the shot, what was missing."""

    scene: str  # the scene's path in the shot: `shot.blend`
    blender: str  # the version that saved the scene: `5.0`
    files: dict[str, FileEntry]
    missing: tuple[FileUse, ...] = ()
    remaps: dict[str, str] = field(
        default_factory=dict
    )  # an absolute path in a .blend → its path in the shot
    origin: str = ""  # the shot folder it was shipped from (`host:/projects/a/sh010`): one shot per key
    scene_etag: str = ""  # the version of the scene in the bucket this manifest describes
    # A scene put in the bucket by hand is traced once on submission: its manifest has no files (they are found
    # under `--assets` at each submission, not in the content store) but every file the scene uses.
    uses: tuple[FileUse, ...] = ()
    # A library's own paths that leave the shot (absolute, or `//../..` out of it), by the library's path in the
    # shot: path as the library writes it → its path in the shot. A path string means different files in
    # different .blend files, so each library has its own.
    library_remaps: dict[str, dict[str, str]] = field(default_factory=dict)
    # Every UDIM set and image sequence, with the tiles and the image users a render reads them through: the tiles
    # and the frames a job reads are checked against `files` at each submission.
    images: tuple[ImageSet, ...] = ()

    @property
    def traced(self) -> bool:
        """Written when a scene put in the bucket by hand was traced (a shipped shot's files include its scene)."""
        return not self.files

    @property
    def total_bytes(self) -> int:
        return sum(entry.size for entry in self.files.values())

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "version": MANIFEST_VERSION,
            "scene": self.scene,
            "blender": self.blender,
            "files": {path: {"sha256": e.sha256, "size": e.size} for path, e in sorted(self.files.items())},
            "missing": [item.to_dict() for item in self.missing],
            "remaps": dict(sorted(self.remaps.items())),
        }
        if self.origin:
            data["origin"] = self.origin
        if self.scene_etag:
            data["scene_etag"] = self.scene_etag
        if self.uses:
            data["uses"] = [item.to_dict() for item in self.uses]
        if self.library_remaps:
            data["library_remaps"] = {
                library: dict(sorted(paths.items())) for library, paths in sorted(self.library_remaps.items())
            }
        if self.images:
            data["images"] = [_image_set(item) for item in self.images]
        return json.dumps(data, indent=1, sort_keys=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> Manifest:
        """The manifest, checked against its schema first; BadManifest with a sentence when it does not fit."""
        from backend.render.manifest_schema import parse

        return parse(text)


def _image_set(item: ImageSet) -> dict[str, Any]:
    data: dict[str, Any] = {
        "written_as": item.written_as,
        "used_by": item.used_by,
        "referrer": item.referrer,
        "path": item.path,
    }
    if item.tiles:
        data["tiles"] = list(item.tiles)
    if item.users:
        data["users"] = [vars(user) for user in item.users]
    return data


def newer_than_farm(version: str) -> bool:
    """Whether a shot saved by Blender `version` (`5.1`) is newer than the farm's (an unknown version is not)."""
    try:
        return tuple(int(part) for part in version.split(".")[:2]) > tuple(
            int(part) for part in FARM_BLENDER.split(".")[:2]
        )
    except ValueError:
        return False


# Blender's tile tokens in an image path: one file per tile (`wood.1001.png`, `wood.u1_v1.png`).
_TILE_TOKENS = {"<UDIM>": "1[0-9][0-9][0-9]", "<UVTILE>": "u[0-9]*_v[0-9]*"}


def tiles_pattern(path: str) -> str | None:
    """The glob pattern of a tiled image's files (`wood.<UDIM>.png` → `wood.1[0-9][0-9][0-9].png`), or None for
    a path with no tile token. A tiled image is there when any of its tiles is."""
    for token, tiles in _TILE_TOKENS.items():
        if token in path:
            return glob.escape(path).replace(token, tiles)
    return None


def manifest_key_for(scene_key: str) -> str:
    """`scenes/shot010/shot.blend` → `scenes/shot010/shot.blend.manifest.json`."""
    return scene_key + MANIFEST_SUFFIX


def claim_key_for(scene_key: str) -> str:
    """`scenes/shot010/shot.blend` → `scenes/shot010/shot.blend.claim.json`: which folder ships under the name."""
    return scene_key + CLAIM_SUFFIX


def content_key(scenes_prefix: str, sha256: str) -> str:
    """Where a file with this content lies in the scenes bucket, whichever shots use it."""
    return f"{scenes_prefix}_cas/sha256/{sha256[:2]}/{sha256}"


def missing_text(missing: tuple[FileUse, ...] | list[FileUse], scene: str) -> str:
    """Every missing file and what uses it, and what would work (the refusal a person reads)."""
    shown = [_missing_one(item, scene) for item in missing[:20]]
    more = f"; …and {len(missing) - 20} more" if len(missing) > 20 else ""
    files = "file" if len(missing) == 1 else f"{len(missing)} files"
    return (
        f"`{scene}` needs {files} that {'is' if len(missing) == 1 else 'are'} not there: "
        + "; ".join(shown)
        + more
        + ". Put them back and upload from the shot folder (`studiobot upload path/to/shot.blend`), or pack "
        "resources into the .blend in Blender (File ▸ External Data ▸ Pack Resources); `--allow-missing` renders "
        "without them on purpose."
    )


def image_gaps(
    images: tuple[ImageSet, ...], present: set[str], frames: list[int], known: tuple[FileUse, ...] = ()
) -> list[FileUse]:
    """The tiles and sequence frames a render of `frames` reads that are not in `present` (paths in the shot), one
    entry per image, unless `known` already names that image as missing."""
    named = {(item.referrer, item.written_as) for item in known}
    gaps = []
    for image in images:
        lacking = image.lacking(present, frames)
        if lacking and (image.referrer, image.written_as) not in named:
            gap = image.gap_text(lacking, frames)
            gaps.append(FileUse(image.written_as, image.used_by, image.referrer, gap))
    return gaps


def _missing_one(item: FileUse, scene: str) -> str:
    """One missing file, its path described as what it is: beside the .blend that uses it, above its folder
    (`../`), or absolute, outside the shot; a library by the path the artist has it at."""
    holder = artist_path(item.referrer)
    inside = f" (in `{holder}`)" if item.referrer != scene else ""
    if item.gap:
        return item.gap + inside
    written = item.written_as
    said = f"{item.used_by} uses `{written}`: not found"
    if _absolute(written):
        return f"{said} (an absolute path, outside the shot folder)" + inside
    if written.removeprefix("//").replace("\\", "/").startswith("../"):
        return f"{said} (`../` leads above the folder of `{holder}`, outside the shot folder)"
    return f"{said} next to `{holder}`"


def _absolute(written: str) -> bool:
    """A path from the root of a disk: `/mnt/projects/…`, `C:\\…`, `\\\\server\\…`."""
    return (written.startswith(("/", "\\")) and not written.startswith("//")) or (
        len(written) > 2 and written[1] == ":" and written[2] in "/\\"
    )


def artist_path(path: str) -> str:
    """A file's path as the artist knows it: a path in the shot, or the absolute path of a file from outside the
    shot folder (`_outside/mnt/lib/char.blend` → `/mnt/lib/char.blend`)."""
    return "/" + path.removeprefix(OUTSIDE + "/") if path.startswith(OUTSIDE + "/") else path
