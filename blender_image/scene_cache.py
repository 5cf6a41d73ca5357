"""Scenes and the files they use, downloaded once per process and laid out where the scene looks for them.

A shot shipped with a manifest is laid out in `<root>/shots/<manifest ETag>/` (each file at its path in the shot)
from a content-addressed cache `<root>/cas/<sha256>`: a second shot sharing textures downloads nothing new, and a
changed manifest gets a fresh folder, so the renderer reopens the scene. The cache keeps at most `max_bytes` and
evicts what was used longest ago. A scene without a manifest is kept by ETag as before (`--assets` for its files).
Every path is made from a name through `backend.names.under`: a key, a manifest path or a hash never leads out of
the cache, and a shot over the size cap is refused before anything of it is downloaded (ShotRefused: permanent).
"""

from __future__ import annotations

import json
import os
import posixpath
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from backend.aws.s3 import ObjectInfo
from backend.errors import NotFoundError, ValidationError
from backend.names import under
from backend.render.manifest import Manifest, content_key
from backend.render.tasks import RenderTask

REMAPS_FILE = ".studiobot-remaps.json"  # beside a laid-out scene: absolute paths in it → where they are now
# Beside it: each library's own paths that leave the shot, by where the library lies here (`library_paths`).
LIBRARY_REMAPS_FILE = ".studiobot-library-remaps.json"


class ShotRefused(ValidationError):
    """The shot cannot be laid out safely (too large): every frame would fail the same way, so none is retried."""


class ObjectStore(Protocol):
    def download(self, bucket: str, key: str, path: Path, etag: str | None = None) -> None: ...
    def list_prefix(self, bucket: str, prefix: str) -> list[ObjectInfo]: ...
    def read(self, bucket: str, key: str) -> tuple[bytes, str]: ...


class SceneCache:
    """`<root>/<etag>/…` for bare scenes, `<root>/shots/<manifest etag>/…` for shots with a manifest."""

    def __init__(
        self,
        store: ObjectStore,
        root: Path,
        scenes_prefix: str = "scenes/",
        max_bytes: int = 8 << 30,
        max_shot_bytes: int = 50 * 10**9,
    ) -> None:
        self.store = store
        self.root = root
        self.scenes_prefix = scenes_prefix
        self.max_bytes = max_bytes
        # A shot (or a bare scene's `--assets`) larger than this is refused before anything is downloaded.
        self.max_shot_bytes = max_shot_bytes
        self.downloads = 0  # objects fetched from S3, for tests and benchmarks
        self._fetched: dict[Path, str] = {}  # local file → ETag it was downloaded at
        self._assets_done: set[tuple[str, str]] = set()  # (job, prefix) already brought up to date
        self._manifests: dict[str, Manifest] = {}  # by manifest ETag

    def scene_path(self, task: RenderTask) -> Path:
        """Local path of the task's scene, downloading it and the files it uses the first time."""
        if task.manifest_key and task.manifest_etag:
            return self._shot(task, task.manifest_key, task.manifest_etag)
        folder = under(self.root, task.scene_etag, "The scene's version")
        scene_dir = posixpath.dirname(task.scene_key)
        path = under(folder, posixpath.basename(task.scene_key), "The scene's name")
        assets = self._assets(task, folder, scene_dir) if task.assets_prefix else []
        if not path.exists():
            self.store.download(task.scene_bucket, task.scene_key, path, etag=task.scene_etag)
            self.downloads += 1
        for item, target in assets:
            if self._fetched.get(target) == item.etag and target.exists():
                continue
            self.store.download(task.scene_bucket, item.key, target, etag=item.etag)
            self._fetched[target] = item.etag
            self.downloads += 1
        if task.assets_prefix:
            self._assets_done.add((task.job_id, task.assets_prefix))
        return path

    def _shot(self, task: RenderTask, manifest_key: str, manifest_etag: str) -> Path:
        manifest = self._manifest(task.scene_bucket, manifest_key, manifest_etag)
        self._within_cap(manifest.total_bytes, task.scene_key)
        folder = under(self.root / "shots", manifest_etag, "The manifest's version")
        scene = under(folder, manifest.scene, "The manifest's scene path")
        for path, entry in manifest.files.items():
            target = under(folder, path, "The manifest's file path")
            if path == manifest.scene or target.exists():
                continue
            blob = under(self.root / "cas", entry.sha256, "The manifest's hash")
            if not blob.exists():
                self._make_room(entry.size)
                key = content_key(self.scenes_prefix, entry.sha256)
                self.store.download(task.scene_bucket, key, blob)
                self.downloads += 1
            os.utime(blob)  # recently used: evicted last
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(blob, target)
            except FileExistsError:
                pass  # another worker process laid it out first: the same content
            except OSError:  # no hard links here: copy, then rename, so no reader sees half a file
                partial = target.with_name(f".{target.name}.{os.getpid()}.part")
                shutil.copyfile(blob, partial)
                partial.replace(target)
        if not scene.exists():
            self.store.download(task.scene_bucket, task.scene_key, scene, etag=task.scene_etag)
            self.downloads += 1
        remaps = {
            written: str(under(folder, path, "The manifest's remapped path"))
            for written, path in manifest.remaps.items()
        }
        _write_whole(scene.parent / REMAPS_FILE, remaps)
        libraries = {
            str(under(folder, library, "The manifest's remapped library")): {
                written: str(under(folder, path, "The manifest's remapped path"))
                for written, path in paths.items()
            }
            for library, paths in manifest.library_remaps.items()
        }
        _write_whole(scene.parent / LIBRARY_REMAPS_FILE, libraries)
        return scene

    def _manifest(self, bucket: str, key: str, etag: str) -> Manifest:
        if etag not in self._manifests:
            text, found = self.store.read(bucket, key)
            if found != etag:
                raise NotFoundError(f"`{key}` changed after the job was submitted: submit the job again.")
            self._manifests[etag] = Manifest.from_json(text)
            self.downloads += 1
        return self._manifests[etag]

    def _make_room(self, incoming: int) -> None:
        """Evict the least recently used files of the content cache until `incoming` more bytes fit the cap."""
        cas = self.root / "cas"
        if not cas.exists():
            return
        # Names starting with "." are downloads under way (another process's, perhaps): never evicted.
        blobs = sorted((blob for blob in cas.iterdir() if not blob.name.startswith(".")), key=_mtime)
        used = sum(blob.stat().st_size for blob in blobs if blob.exists())
        while blobs and used + incoming > self.max_bytes:
            oldest = blobs.pop(0)
            try:
                used -= oldest.stat().st_size
                oldest.unlink()  # a laid-out shot keeps its hard link: only the cache's copy goes
            except FileNotFoundError:
                continue  # another process evicted it first

    def _assets(self, task: RenderTask, folder: Path, scene_dir: str) -> list[tuple[ObjectInfo, Path]]:
        """Where each support file under the job's `--assets` goes, every key checked and the total within the cap,
        before anything is downloaded; listed once per job (files may change between jobs, the scene not)."""
        prefix = task.assets_prefix or ""
        if (task.job_id, prefix) in self._assets_done:
            return []
        items = [
            item for item in self.store.list_prefix(task.scene_bucket, prefix) if not item.key.endswith("/")
        ]
        self._within_cap(sum(item.size for item in items), prefix)
        own = f"{scene_dir}/" if scene_dir else ""
        placed = []
        for item in items:
            # Laid out relative to the scene's folder, so `//textures/wood.png` in the .blend resolves; a key
            # above it (a job queued before `--assets` had to name the shot's own folder) under `_outside/`.
            if own and item.key.startswith(own):
                target = under(folder, item.key[len(own) :], "The support file")
            else:
                target = under(folder / "_outside", item.key, "The support file")
            placed.append((item, target))
        return placed

    def _within_cap(self, total: int, name: str) -> None:
        if total > self.max_shot_bytes:
            raise ShotRefused(
                f"`{name}` holds {total / 1e9:,.1f} GB, more than the {self.max_shot_bytes / 1e9:,.0f} GB a render "
                "node takes for one shot: render a smaller shot (split it, or name only the folders it needs), or "
                "ask an admin to raise STUDIOBOT_MAX_SHOT_GB."
            )


def _write_whole(path: Path, data: Mapping[str, object]) -> None:
    """Beside the scene, whole: another process may read it now."""
    partial = path.parent / f".{path.name}.{os.getpid()}.part"
    partial.write_text(json.dumps(data))
    partial.replace(path)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:  # evicted by another process meanwhile
        return 0.0
