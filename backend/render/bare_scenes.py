"""A scene put in the bucket by hand, without a manifest: traced on submission, so a missing file is still refused
before anything is spent. Its files count as there only where the worker will find them (under `--assets`)."""

from __future__ import annotations

import logging
import posixpath
import tempfile
from pathlib import Path
from typing import Protocol

from backend.aws.s3 import ObjectInfo
from backend.render.manifest import MissingFile

# The bot's Lambda has 512 MB of /tmp: larger scenes are left to the worker's check.
TRACE_AT_MOST_BYTES = 256 << 20
logger = logging.getLogger(__name__)


class BareSceneStore(Protocol):
    def download(self, bucket: str, key: str, path: Path, etag: str | None = None) -> None: ...


def missing_from_bucket(
    store: BareSceneStore, bucket: str, scene: ObjectInfo, assets: list[ObjectInfo]
) -> list[MissingFile] | None:
    """What the scene uses that the worker will not find (its support files are `assets`); None when the scene
    cannot be traced here (too large, compressed without zstandard, not a .blend): the worker checks it then."""
    if scene.size > TRACE_AT_MOST_BYTES:
        return None
    from backend.render.shots import trace_shot

    scene_dir = posixpath.dirname(scene.key)
    present = {posixpath.relpath(item.key, scene_dir or ".") for item in assets}
    with tempfile.TemporaryDirectory(prefix="studiobot-trace-") as folder:
        local = Path(folder) / posixpath.basename(scene.key)
        store.download(bucket, scene.key, local, etag=scene.etag)
        try:
            trace = trace_shot(local)
        except Exception as error:  # not readable here: the worker asks Blender itself
            logger.warning("could not trace %s: %r", scene.key, error)
            return None
    # Alone on this disk, every file the scene uses is "missing" here: is it in the bucket, where the worker looks?
    missing = []
    for item in trace.missing:
        written = item.written_as
        relative = posixpath.normpath(written[2:]) if written.startswith("//") else None
        if relative is None or relative.startswith("..") or relative not in present:
            missing.append(item)
    return missing
