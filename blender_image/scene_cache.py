"""Scenes (and their support files) downloaded once per process, cached on local disk by ETag."""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Protocol

from backend.aws.s3 import ObjectInfo
from backend.render.tasks import RenderTask


class ObjectStore(Protocol):
    def download(self, bucket: str, key: str, path: Path, etag: str | None = None) -> None: ...
    def list_prefix(self, bucket: str, prefix: str) -> list[ObjectInfo]: ...


class SceneCache:
    """`<root>/<etag>/<key relative to the scene's folder>`: a new version of a scene gets a new folder."""

    def __init__(self, store: ObjectStore, root: Path) -> None:
        self.store = store
        self.root = root
        self.downloads = 0  # objects fetched from S3, for tests and benchmarks
        self._fetched: dict[Path, str] = {}  # local file → ETag it was downloaded at
        self._assets_done: set[tuple[str, str]] = set()  # (job, prefix) already brought up to date

    def scene_path(self, task: RenderTask) -> Path:
        """Local path of the task's scene, downloading it and its support files the first time."""
        folder = self.root / task.scene_etag
        scene_dir = posixpath.dirname(task.scene_key)
        path = folder / posixpath.basename(task.scene_key)
        if not path.exists():
            self.store.download(task.scene_bucket, task.scene_key, path, etag=task.scene_etag)
            self.downloads += 1
        if task.assets_prefix:
            self._fetch_assets(task, folder, scene_dir)
        return path

    def _fetch_assets(self, task: RenderTask, folder: Path, scene_dir: str) -> None:
        # Listed once per job: support files may change between jobs even when the scene does not.
        if (task.job_id, task.assets_prefix or "") in self._assets_done:
            return
        for item in self.store.list_prefix(task.scene_bucket, task.assets_prefix or ""):
            if item.key.endswith("/"):
                continue
            # Laid out relative to the scene's folder, so `//textures/wood.png` in the .blend resolves.
            relative = posixpath.relpath(item.key, scene_dir or ".")
            target = (folder / relative).resolve()
            if folder.resolve() not in target.parents:
                target = folder / "_outside" / item.key  # keys above the scene's folder stay inside the cache
            if self._fetched.get(target) == item.etag and target.exists():
                continue
            self.store.download(task.scene_bucket, item.key, target, etag=item.etag)
            self._fetched[target] = item.etag
            self.downloads += 1
        self._assets_done.add((task.job_id, task.assets_prefix or ""))
