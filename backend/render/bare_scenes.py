"""A scene put in the bucket by hand, without a shipped manifest: traced once on submission, and what the trace found
written beside it as its manifest (with the scene's ETag), so the next submission of the same version
reads it instead of tracing again. Its files count as there only where the worker will find them (under `--assets`),
which is checked at every submission: a file uploaded since is found."""

from __future__ import annotations

import fnmatch
import logging
import posixpath
import tempfile
from pathlib import Path
from typing import Protocol

from backend.aws.s3 import ObjectInfo
from backend.render.manifest import FileUse, Manifest, image_gaps, manifest_key_for, tiles_pattern

# The bot's Lambda has 512 MB of /tmp: larger scenes are left to the worker's check.
TRACE_AT_MOST_BYTES = 256 << 20
logger = logging.getLogger(__name__)


class BareSceneStore(Protocol):
    def download(self, bucket: str, key: str, path: Path, etag: str | None = None) -> None: ...
    def put(self, bucket: str, key: str, body: bytes, content_type: str = "application/json") -> str: ...


def traced_in_bucket(
    store: BareSceneStore, bucket: str, scene: ObjectInfo, recorded: Manifest | None
) -> Manifest | None:
    """The scene's traced manifest: the one recorded for this very version of it, else traced now and written
    beside it. None when it cannot be traced here (too large, not a .blend): the worker checks it then."""
    if recorded is not None and recorded.traced and recorded.scene_etag == scene.etag:
        return recorded
    if scene.size > TRACE_AT_MOST_BYTES:
        return None
    from backend.render.shots import trace_shot

    with tempfile.TemporaryDirectory(prefix="studiobot-trace-") as folder:
        local = Path(folder) / posixpath.basename(scene.key)
        store.download(bucket, scene.key, local, etag=scene.etag)
        try:
            trace = trace_shot(local)
        except Exception as error:  # not readable here: the worker asks Blender itself
            logger.warning("could not trace %s: %r", scene.key, error)
            return None
    # Alone on this disk, every file the scene uses is "missing" here: each one is looked for in the bucket.
    manifest = Manifest(
        scene=trace.scene,
        blender=trace.blender,
        files={},
        scene_etag=scene.etag,
        uses=trace.missing,
        images=trace.images,
    )
    store.put(bucket, manifest_key_for(scene.key), manifest.to_json().encode())
    return manifest


def missing_in_bucket(
    manifest: Manifest, scene_key: str, assets: list[ObjectInfo], frames: list[int] | None = None
) -> list[FileUse]:
    """What the traced scene uses that the worker will not find: not under `--assets`, beside the scene; a UDIM set
    by each tile it lists, a sequence by each frame `frames` read."""
    scene_dir = posixpath.dirname(scene_key) or "."
    present = {posixpath.relpath(item.key, scene_dir) for item in assets}
    sets = {(image.referrer, image.written_as) for image in manifest.images}
    missing = []
    for use in manifest.uses:
        if (use.referrer, use.written_as) in sets:
            continue  # checked file by file below
        written = use.written_as
        relative = posixpath.normpath(written[2:]) if written.startswith("//") else None
        if relative is None or relative.startswith("..") or not _found(relative, present):
            missing.append(use)
    return missing + image_gaps(manifest.images, present, frames or [])


def _found(relative: str, present: set[str]) -> bool:
    """Whether the file is there; a tiled image traced before tiles were recorded is there when any tile is."""
    if relative in present:
        return True
    pattern = tiles_pattern(relative)
    return pattern is not None and any(fnmatch.fnmatchcase(path, pattern) for path in present)
