"""Ship a shot, not a file: each file stored once by content hash, only what the bucket lacks sent, then the
manifest beside the scene. Sending again what did not change sends nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from backend.aws.s3 import ObjectInfo
from backend.errors import NotFoundError, ValidationError
from backend.names import check
from backend.render.manifest import Manifest, content_key, manifest_key_for
from backend.render.shots import ShotTrace


class ShotStore(Protocol):
    """The scenes bucket, as shipping uses it (`backend.aws.s3.S3Store`)."""

    def exists(self, bucket: str, key: str) -> bool: ...
    def head(self, bucket: str, key: str) -> ObjectInfo: ...
    def upload(self, path: Path, bucket: str, key: str, content_type: str | None = None) -> None: ...
    def put(self, bucket: str, key: str, body: bytes, content_type: str = "application/json") -> str: ...
    def read(self, bucket: str, key: str) -> tuple[bytes, str]: ...


@dataclass(frozen=True)
class Shipped:
    """What a shipment did: the scene's key, how many files and bytes were sent, how many were there already."""

    scene_key: str
    manifest: Manifest
    files_sent: int
    bytes_sent: int
    files_kept: int


def shot_key(scene: Path, scenes_prefix: str, name: str = "") -> str:
    """`shot010/shot.blend` → `scenes/shot010/shot.blend`: a shot's namespace is its folder's name, or the `name`
    it is shipped as (`projB/sh010`) when two projects have a shot folder of the same name."""
    folder = name.rstrip("/") or scene.resolve().parent.name
    check(folder, "The shot's name", "projB/sh010")  # a name, never a path: `--as ../../x` is refused
    check(scene.name, "The scene's file name", "shot.blend")
    return f"{scenes_prefix}{folder}/{scene.name}"


class ShotShipper:
    """Sends a traced shot's files that the bucket does not hold yet, in parallel, then its scene and manifest."""

    def __init__(self, store: ShotStore, bucket: str, scenes_prefix: str, threads: int = 8) -> None:
        self.store = store
        self.bucket = bucket
        self.scenes_prefix = scenes_prefix
        self.threads = threads

    def ship(
        self,
        trace: ShotTrace,
        manifest: Manifest,
        scene_key: str,
        sent: Callable[[int], None] | None = None,
        replace: bool = False,
    ) -> Shipped:
        """Store every file of the manifest once; `sent(bytes)` is told as each file arrives. A key that holds
        a shot from another folder is refused before anything is sent, unless `replace`."""
        before = self._shipped_before(scene_key)
        if before is not None and not replace and before.origin not in ("", manifest.origin):
            raise ValidationError(
                f"`{scene_key}` already holds the shot shipped from `{before.origin}`, not this one "
                f"(`{manifest.origin}`): ship it under its own name (`studiobot upload {manifest.scene} "
                f"--as project/shot`), or replace the other on purpose (`--replace`)."
            )
        sources = {dep.path: dep.source for dep in trace.files if dep.source is not None}
        # One upload per content; the scene itself lies at its own key (its ETag names the version a job renders).
        wanted = {entry.sha256: path for path, entry in manifest.files.items() if path != manifest.scene}
        # The first call makes the S3 client in this thread: boto3 does not make clients safely in parallel.
        first = next(iter(wanted), None)
        first_held = {first: self._held(first)} if first else {}
        with ThreadPoolExecutor(max_workers=self.threads) as pool:
            rest = [sha for sha in wanted if sha != first]
            held = first_held | dict(zip(rest, pool.map(self._held, rest), strict=True))
            to_send = [(sha, path) for sha, path in wanted.items() if not held[sha]]

            def send(item: tuple[str, str]) -> int:
                sha, path = item
                source = sources[path]
                assert source is not None
                self.store.upload(source, self.bucket, content_key(self.scenes_prefix, sha))
                size = manifest.files[path].size
                if sent:
                    sent(size)
                return size

            bytes_sent = sum(pool.map(send, to_send))
        files_sent = len(to_send)
        if before is None or dataclasses.replace(before, scene_etag="") != manifest:
            scene_source = sources[manifest.scene]
            assert scene_source is not None
            self.store.upload(scene_source, self.bucket, scene_key)
            scene_size = manifest.files[manifest.scene].size
            if sent:
                sent(scene_size)
            files_sent, bytes_sent = files_sent + 1, bytes_sent + scene_size
            # The scene's ETag names the version this manifest describes: one put there by hand is not trusted to it.
            manifest = dataclasses.replace(manifest, scene_etag=self.store.head(self.bucket, scene_key).etag)
            self.store.put(self.bucket, manifest_key_for(scene_key), manifest.to_json().encode())
        else:
            manifest = before
        return Shipped(scene_key, manifest, files_sent, bytes_sent, len(manifest.files) - files_sent)

    def _shipped_before(self, scene_key: str) -> Manifest | None:
        """The manifest the scene's key was last shipped with, if that very scene is still there."""
        try:
            text, _ = self.store.read(self.bucket, manifest_key_for(scene_key))
            before = Manifest.from_json(text)
            return (
                before
                if not before.traced and before.scene_etag == self.store.head(self.bucket, scene_key).etag
                else None
            )
        except (NotFoundError, ValueError):
            return None

    def _held(self, sha256: str) -> bool:
        return self.store.exists(self.bucket, content_key(self.scenes_prefix, sha256))
