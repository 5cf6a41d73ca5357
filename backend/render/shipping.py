"""Ship a shot, not a file: each file stored once by content hash, only what the bucket lacks sent, then the
manifest beside the scene. Sending again what did not change sends nothing.

The scene is content too: the .blend goes to the content store like its textures and libraries, and the key under
`scenes/<shot>/` gets it by a copy made inside S3 (no byte sent), only when it does not hold that content already.
Changing one texture sends that texture and a manifest; the same .blend under another name (`--as`) sends none of
it. The key keeps a whole .blend (not a pointer) so that every reader of it works as before: the submission's HEAD
and ETag checks, the worker's download by ETag, a scene put there by hand. It costs the .blend's storage once more
per name; what it saves is the upload, which is what an artist waits for.

A shot's name is claimed before a byte is sent: a small claim object beside the scene, created only if it is not
there (S3's If-None-Match), names the folder the shot comes from; the manifest is then written only over the version
read at the start (If-Match), or only if there was none. Of two uploads of the same name at once, one ships and the
other is refused with nothing of its own written under the name."""

from __future__ import annotations

import dataclasses
import json
import shlex
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol

from backend.aws.s3 import ObjectInfo
from backend.errors import ConflictError, NotFoundError, ValidationError
from backend.names import check
from backend.render.manifest import Manifest, claim_key_for, content_key, manifest_key_for
from backend.render.shots import ShotTrace


class ShotStore(Protocol):
    """The scenes bucket, as shipping uses it (`backend.aws.s3.S3Store`)."""

    def exists(self, bucket: str, key: str) -> bool: ...
    def head(self, bucket: str, key: str) -> ObjectInfo: ...
    def upload(self, path: Path, bucket: str, key: str, content_type: str | None = None) -> None: ...
    def copy(self, bucket: str, source: str, key: str) -> None: ...
    def put(
        self,
        bucket: str,
        key: str,
        body: bytes,
        content_type: str = "application/json",
        if_match: str = "",
        only_new: bool = False,
    ) -> str: ...
    def read(self, bucket: str, key: str) -> tuple[bytes, str]: ...


@dataclass(frozen=True)
class Shipped:
    """What a shipment did: the scene's key, how many files and bytes were sent, how many were there already."""

    scene_key: str
    manifest: Manifest
    files_sent: int
    bytes_sent: int
    files_kept: int
    meta_bytes_sent: int = 0  # the manifest and the name's claim, when written


class NameTaken(ValidationError):
    """A shot's name already holds (or is being sent) another folder's shot; `sentence` names the ways out."""

    def __init__(self, scene_key: str, holder: str, origin: str, meanwhile: bool = False) -> None:
        self.scene_key, self.holder, self.origin, self.meanwhile = scene_key, holder, origin, meanwhile
        folder = origin.partition(":")[2] or "."  # `host:/projects/b/sh010`
        super().__init__(self.sentence(shlex.quote(f"{folder}/{PurePosixPath(scene_key).name}")))

    def sentence(self, path: str, command: str = "") -> str:
        """The refusal: `command` (as typed; default `studiobot upload PATH`) again with `--as`, or `--replace`."""
        what = "is being sent" if self.meanwhile else "already holds"
        again = command or f"studiobot upload {path}"
        return (
            f"`{self.scene_key}` {what} the shot shipped from `{self.holder}`, not this one (`{self.origin}`): "
            f"ship it under its own name (`{again} --as project/shot`), or replace the other on purpose "
            f"(`studiobot upload {path} --replace`)."
        )


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
        (or is being sent) a shot from another folder is refused before anything is sent, unless `replace`."""
        # What a worker would refuse (a file named `a\\b.png`) is refused now, before anything is sent.
        Manifest.from_json(manifest.to_json())
        before, manifest_etag = self._shipped_before(scene_key)
        meta_bytes = self._claim(scene_key, manifest, before, replace)
        sources = {dep.path: dep.source for dep in trace.files if dep.source is not None}
        # One upload per content, the scene's included.
        wanted = {entry.sha256: path for path, entry in manifest.files.items()}
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
        scene = manifest.files[manifest.scene]
        if before is not None and before.scene == manifest.scene and before.files.get(before.scene) == scene:
            scene_etag = before.scene_etag  # the key holds this very scene already
        else:
            self.store.copy(self.bucket, content_key(self.scenes_prefix, scene.sha256), scene_key)
            # The scene's ETag names the version this manifest describes: one put there by hand is not trusted to it.
            scene_etag = self.store.head(self.bucket, scene_key).etag
        manifest = dataclasses.replace(manifest, scene_etag=scene_etag)
        if manifest != before:
            meta_bytes += self._write_manifest(scene_key, manifest, manifest_etag)
        else:
            manifest = before
        return Shipped(
            scene_key, manifest, files_sent, bytes_sent, len(manifest.files) - files_sent, meta_bytes
        )

    def _shipped_before(self, scene_key: str) -> tuple[Manifest | None, str]:
        """The manifest the scene's key was last shipped with, if that very scene is still there; and the ETag of
        the manifest object found at the start, whatever it held ("" when there was none)."""
        try:
            text, etag = self.store.read(self.bucket, manifest_key_for(scene_key))
        except NotFoundError:
            return None, ""
        try:
            before = Manifest.from_json(text)
            if not before.traced and before.scene_etag == self.store.head(self.bucket, scene_key).etag:
                return before, etag
        except (NotFoundError, ValueError):
            pass
        return None, etag

    def _claim(self, scene_key: str, manifest: Manifest, before: Manifest | None, replace: bool) -> int:
        """Claim the shot's name for this folder before anything is sent (create-only, or over the claim read);
        the bytes written (0 when the name was this folder's already)."""
        key = claim_key_for(scene_key)
        holder, etag = self._holder(key)
        if not etag and before is not None:
            holder = before.origin  # shipped before names were claimed: the manifest says whose it is
        if holder not in ("", manifest.origin) and not replace:
            raise self._refusal(scene_key, holder, manifest)
        if etag and holder == manifest.origin:
            return 0  # this folder's already
        body = json.dumps({"origin": manifest.origin}).encode()
        try:
            self.store.put(self.bucket, key, body, if_match=etag, only_new=not etag)
        except ConflictError:  # claimed by another upload between our read and our write
            holder, _ = self._holder(key)
            if holder != manifest.origin:
                raise self._refusal(scene_key, holder, manifest, meanwhile=True) from None
        return len(body)

    def _holder(self, key: str) -> tuple[str, str]:
        """The folder a name's claim names, and the claim's ETag ("" and "" when unclaimed)."""
        try:
            text, etag = self.store.read(self.bucket, key)
        except NotFoundError:
            return "", ""
        try:
            origin = json.loads(text).get("origin", "")
        except (ValueError, AttributeError):
            origin = ""
        return (origin if isinstance(origin, str) else ""), etag

    @staticmethod
    def _refusal(scene_key: str, holder: str, manifest: Manifest, meanwhile: bool = False) -> NameTaken:
        return NameTaken(scene_key, holder, manifest.origin, meanwhile)

    def _write_manifest(self, scene_key: str, manifest: Manifest, etag: str) -> int:
        """Over the version read at the start, or only where there was none: never over another upload's; the
        bytes written."""
        body = manifest.to_json().encode()
        try:
            self.store.put(self.bucket, manifest_key_for(scene_key), body, if_match=etag, only_new=not etag)
        except ConflictError:
            raise ValidationError(
                f"`{scene_key}` was shipped by another upload while this one ran, so its manifest was left as "
                f"that upload wrote it: see what it holds, then ship again (`--replace` replaces it on purpose)."
            ) from None
        return len(body)

    def _held(self, sha256: str) -> bool:
        return self.store.exists(self.bucket, content_key(self.scenes_prefix, sha256))
