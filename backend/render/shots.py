"""A shot on disk: its .blend and every file it uses, found by Blender Asset Tracer (BAT), Flamenco's own tracer.

Images (sequences and UDIM tiles expanded), linked libraries, caches, volumes, sounds, fonts and movie clips. Each
linked library is traced in its own right as well: BAT does not expand material node trees inside libraries of
Blender 5.0.4+ files, so a library's textures would be missed otherwise. Compressed (zstd) files need `zstandard`,
which is a dependency of ours (BAT's own extra pins an ancient one).
"""

from __future__ import annotations

import hashlib
import logging
import socket
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from backend.render.image_sets import ImageUser
from backend.render.manifest import OUTSIDE, FileEntry, FileUse, ImageSet, Manifest
from backend.render.trace_images import image_set, image_users, tile_gap

# BAT says "Path … does not exist" as a warning for every missing file: we report those ourselves.
logging.getLogger("blender_asset_tracer").setLevel(logging.ERROR)

_WORDS = {
    "Image": "image",
    "Library": "library",
    "bSound": "sound",
    "VFont": "font",
    "MovieClip": "movie clip",
    "CacheFile": "cache",
    "Volume": "volume",
    "Mesh": "mesh cache",
    "Object": "object cache",
    "Scene": "sequencer strip",
    "Strip": "sequencer strip",
    "Light": "light profile",
}


@dataclass(frozen=True)
class Dependency:
    """One file a .blend of the shot uses."""

    path: str  # where it lives in the shot (posix, relative to the shot folder)
    source: Path | None  # on disk, or None when missing
    used_by: str  # `image wood.png`
    written_as: str  # as the .blend writes it: `//textures/wood.png`
    referrer: str  # the .blend that uses it, by its path in the shot


@dataclass(frozen=True)
class ShotTrace:
    """What the scene needs: every file found (the scene first) and every one missing."""

    root: Path
    scene: str
    blender: str
    files: tuple[Dependency, ...]
    missing: tuple[FileUse, ...]
    # Further uses of files already in `files`, written otherwise or by another .blend (a studio mount's texture
    # that the scene and a library both use): each needs its path remapped too.
    more_uses: tuple[Dependency, ...] = ()
    images: tuple[ImageSet, ...] = ()  # every UDIM set and sequence, with the tiles and users a render reads

    @property
    def total_bytes(self) -> int:
        return sum(dep.source.stat().st_size for dep in self.files if dep.source is not None)

    def manifest(self, hashes: dict[str, FileEntry]) -> Manifest:
        """The manifest of the shot, given each file's content hash by its path in the shot."""
        # The scene's own paths here; a library's (a path string means different files in different .blend files)
        # by library, in `library_remaps`.
        # The path as written is mapped, not each file: a UDIM image or a sequence keeps its template.
        scene_dir = (self.root / self.scene).parent
        remaps = {
            dep.written_as: _in_shot(_written_path(dep.written_as, scene_dir), self.root)
            for dep in self.files + self.more_uses
            if dep.path.startswith(OUTSIDE + "/") and dep.referrer == self.scene
        }
        origin = f"{socket.gethostname()}:{self.root.as_posix()}"
        return Manifest(
            self.scene,
            self.blender,
            dict(hashes),
            self.missing,
            remaps,
            origin=origin,
            library_remaps=self._library_remaps(),
            images=self.images,
        )

    def _library_remaps(self) -> dict[str, dict[str, str]]:
        """Each library's own paths to files outside the shot (absolute, or up and out of the shot folder): the
        farm has neither the studio's mount nor the artist's folders, so the worker points them at the shot's."""
        libraries = {dep.path: dep.source for dep in self.files if dep.source is not None}
        remaps: dict[str, dict[str, str]] = {}
        for dep in self.files + self.more_uses:
            library = libraries.get(dep.referrer) if dep.referrer != self.scene else None
            if library is not None and dep.path.startswith(OUTSIDE + "/"):
                where = _in_shot(_written_path(dep.written_as, library.parent), self.root)
                remaps.setdefault(dep.referrer, {})[dep.written_as] = where
        return remaps


def trace_shot(scene: Path, root: Path | None = None) -> ShotTrace:
    """Trace a scene and its libraries; `root` is the shot folder (default: the scene's folder)."""
    from blender_asset_tracer import blendfile, trace  # pure Python, but only the CLI and uploads need it

    scene = scene.resolve()
    root = (root or scene.parent).resolve()
    found: dict[Path, Dependency] = {scene: Dependency(_in_shot(scene, root), scene, "the scene", "", "")}
    missing: dict[tuple[str, str], FileUse] = {}
    more: dict[tuple[str, str], Dependency] = {}  # other uses of a found file, by (referrer, as written)
    images: list[ImageSet] = []
    pending, traced = [scene], set()
    while pending:
        blend = pending.pop()
        if blend in traced:
            continue
        traced.add(blend)
        referrer = _in_shot(blend, root)
        try:
            users = image_users(blendfile.open_cached(blend))
            for usage in trace.deps(blend):
                what = f"{_WORDS.get(usage.block.dna_type_name, usage.block.dna_type_name.lower())} "
                name = usage.block_name
                # A data-block's name starts with its type's two letters (`IMwood.png`); a strip's does not.
                what += (name[2:] if name[:2].isalpha() and name[:2].isupper() else name).decode(
                    "utf-8", "replace"
                )
                written = usage.asset_path.decode("utf-8", "replace")
                files = list(usage.files())
                if not files:
                    missing.setdefault((referrer, written), FileUse(written, what, referrer))
                if usage.block.dna_type_name == "Image":
                    found_set, gap = _image_set_of(usage.block, blend, users, written, what, root)
                    if found_set is not None and found_set not in images:
                        images.append(found_set)
                        if gap and files:
                            key = (found_set.referrer, written)
                            missing.setdefault(key, FileUse(written, what, found_set.referrer, gap))
                for path in files:
                    path = path.resolve()
                    use = Dependency(_in_shot(path, root), path, what, written, referrer)
                    if path not in found:
                        found[path] = use
                    elif (found[path].referrer, found[path].written_as) != (referrer, written):
                        more.setdefault((referrer, written), use)
                    if usage.block.dna_type_name == "Library":
                        pending.append(path)  # its own relative paths, resolved against it
        finally:
            blendfile.close_all_cached()
    return ShotTrace(
        root,
        found[scene].path,
        _version(scene),
        tuple(found.values()),
        tuple(missing.values()),
        more_uses=tuple(more.values()),
        images=tuple(images),
    )


def _image_set_of(
    block: Any, blend: Path, users: dict[int, list[ImageUser]], written: str, what: str, root: Path
) -> tuple[ImageSet | None, str]:
    """The UDIM set or sequence an image block reads, and what a UDIM set lacks on disk; the block may be a
    library's own, when BAT reaches into it from the scene: its paths and users are the library's."""
    holder = Path(block.bfile.filepath).resolve()
    if holder != blend:
        users = image_users(block.bfile)
    on_disk = _written_path(written, holder.parent)
    found = image_set(block, users, written, what, _in_shot(holder, root), _in_shot(on_disk, root))
    return found, (tile_gap(found, on_disk) if found is not None and found.tiled else "")


def hash_files(
    trace: ShotTrace, progress: Callable[[int], None] | None = None, threads: int = 4
) -> dict[str, FileEntry]:
    """sha256 and size of every file found, by its path in the shot (read in parallel, 1 MiB at a time)."""

    def one(dep: Dependency) -> tuple[str, FileEntry]:
        assert dep.source is not None
        digest, size = hashlib.sha256(), 0
        with dep.source.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
        if progress:
            progress(size)
        return dep.path, FileEntry(digest.hexdigest(), size)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return dict(pool.map(one, _present(trace.files)))


def _present(files: Iterable[Dependency]) -> list[Dependency]:
    return [dep for dep in files if dep.source is not None]


def _written_path(written: str, blend_dir: Path) -> Path:
    """Where a path as a .blend writes it points (`//` is the .blend's folder); tokens such as `<UDIM>` are kept."""
    path = blend_dir / written[2:] if written.startswith("//") else Path(written)
    return path.resolve()


def _in_shot(path: Path, root: Path) -> str:
    """The path of a file in the shot: relative to the shot folder, or under `_outside/` when it is elsewhere."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(PurePosixPath(OUTSIDE, *path.parts[1:]))


def _version(scene: Path) -> str:
    """`5.0` from the version the file header records (`500`)."""
    from blender_asset_tracer import blendfile

    with blendfile.BlendFile(scene) as bfile:
        version = int(bfile.header.version)
    return f"{version // 100}.{version % 100}"
