"""A shot's name is claimed before a byte is sent (S3 conditional writes): of two uploads of the same name at once,
one ships and the other is refused, with nothing of its own written under the name."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from backend.aws.s3 import S3Store
from backend.errors import ConflictError, ValidationError
from backend.render.manifest import Manifest, manifest_key_for
from backend.render.shipping import Shipped, ShotShipper
from backend.render.shots import Dependency, ShotTrace, hash_files

from .conftest import Stack

KEY = "scenes/sh010/shot.blend"


def _shot(folder: Path, colour: bytes) -> tuple[ShotTrace, Manifest]:
    """A shot folder as an artist has it (a scene and its texture), traced as `trace_shot` would."""
    (folder / "textures").mkdir(parents=True)
    (folder / "shot.blend").write_bytes(b"BLENDER-v500 " + colour * 1000)
    (folder / "textures" / "wood.png").write_bytes(colour * 50_000)
    files = (
        Dependency("shot.blend", folder / "shot.blend", "the scene", "", ""),
        Dependency(
            "textures/wood.png",
            folder / "textures" / "wood.png",
            "image wood.png",
            "//textures/wood.png",
            "shot.blend",
        ),
    )
    trace = ShotTrace(folder, "shot.blend", "5.0", files, ())
    return trace, trace.manifest(hash_files(trace))


class Recording:
    """The real store, noting which thread wrote what; the first reads of the manifest meet at a barrier, so two
    uploads both start before either has written anything (as two artists pressing Enter at once)."""

    def __init__(self, store: S3Store, uploads: int) -> None:
        self.store = store
        self.met = threading.Barrier(uploads, timeout=10)
        self.met_once: set[str] = set()
        self.writes: dict[str, list[str]] = {}
        self.lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def read(self, bucket: str, key: str) -> tuple[bytes, str]:
        thread = threading.current_thread().name
        if key == manifest_key_for(KEY) and thread not in self.met_once:
            self.met_once.add(thread)
            try:
                return self.store.read(bucket, key)
            finally:
                self.met.wait()
        return self.store.read(bucket, key)

    def _wrote(self, key: str) -> None:
        with self.lock:
            self.writes.setdefault(threading.current_thread().name, []).append(key)

    def upload(self, path: Path, bucket: str, key: str, content_type: str | None = None) -> None:
        self.store.upload(path, bucket, key, content_type)
        self._wrote(key)

    def put(self, bucket: str, key: str, body: bytes, *args: Any, **kwargs: Any) -> str:
        etag = self.store.put(bucket, key, body, *args, **kwargs)
        self._wrote(key)
        return etag


def test_two_uploads_of_the_same_name_at_once_one_ships_the_other_is_refused(
    stack: Stack, tmp_path: Path
) -> None:
    shots = {who: _shot(tmp_path / who / "sh010", who.encode()[:1]) for who in ("projA", "projB")}
    store = Recording(stack.store, uploads=2)
    shipper = ShotShipper(store, stack.settings.scenes_bucket, stack.settings.scenes_prefix)  # type: ignore[arg-type]
    shipped: dict[str, Shipped] = {}
    refused: dict[str, str] = {}

    def upload(who: str) -> None:
        trace, manifest = shots[who]
        try:
            shipped[who] = shipper.ship(trace, manifest, KEY)
        except ValidationError as error:
            refused[who] = str(error)

    threads = [threading.Thread(target=upload, args=(who,), name=who) for who in shots]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # THEN exactly one shipped, the other was told whose shot holds the name
    assert len(shipped) == 1 and len(refused) == 1, (shipped.keys(), refused)
    ((winner, ship),) = shipped.items()
    ((loser, said),) = refused.items()
    assert f"holds the shot shipped from `{shots[winner][1].origin}`" in said or (
        f"is being sent the shot shipped from `{shots[winner][1].origin}`" in said
    )
    assert "--as project/shot" in said and "--replace" in said
    # AND the name holds the winner's shot: its manifest, its scene
    text, _ = stack.store.read(stack.settings.scenes_bucket, manifest_key_for(KEY))
    assert Manifest.from_json(text) == ship.manifest and ship.manifest.origin == shots[winner][1].origin
    scene = stack.s3.get_object(Bucket=stack.settings.scenes_bucket, Key=KEY)["Body"].read()
    assert scene == (tmp_path / winner / "sh010" / "shot.blend").read_bytes()
    # AND the loser sent nothing at all: not a byte, not under the name nor anywhere else
    assert store.writes.get(loser, []) == []


def test_replace_takes_the_name_on_purpose(stack: Stack, tmp_path: Path) -> None:
    first_trace, first = _shot(tmp_path / "projA" / "sh010", b"A")
    other_trace, other = _shot(tmp_path / "projB" / "sh010", b"B")
    shipper = ShotShipper(stack.store, stack.settings.scenes_bucket, stack.settings.scenes_prefix)
    shipper.ship(first_trace, first, KEY)
    with pytest.raises(ValidationError, match=r"already holds the shot shipped from `.*projA/sh010`"):
        shipper.ship(other_trace, other, KEY)
    replaced = shipper.ship(other_trace, other, KEY, replace=True)
    text, _ = stack.store.read(stack.settings.scenes_bucket, manifest_key_for(KEY))
    assert Manifest.from_json(text) == replaced.manifest and replaced.manifest.origin == other.origin
    with pytest.raises(ValidationError, match=r"already holds the shot shipped from `.*projB/sh010`"):
        shipper.ship(first_trace, first, KEY)  # the name is projB's now
    assert shipper.ship(other_trace, other, KEY).files_sent == 0  # and projB ships to it as before


class ShippedMeanwhile:
    """The real store; while the upload runs (after its first file), another upload writes the name's manifest."""

    def __init__(self, store: S3Store, manifest: bytes) -> None:
        self.store, self.manifest, self.done = store, manifest, False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def upload(self, path: Path, bucket: str, key: str, content_type: str | None = None) -> None:
        self.store.upload(path, bucket, key, content_type)
        if not self.done:
            self.done = True
            self.store.put(bucket, manifest_key_for(KEY), self.manifest)


def test_a_manifest_written_meanwhile_is_never_overwritten(stack: Stack, tmp_path: Path) -> None:
    trace, manifest = _shot(tmp_path / "projA" / "sh010", b"A")
    ShotShipper(stack.store, stack.settings.scenes_bucket, stack.settings.scenes_prefix).ship(
        trace, manifest, KEY
    )
    (tmp_path / "projA" / "sh010" / "textures" / "wood.png").write_bytes(
        b"C" * 50_000
    )  # the artist changed it
    changed = trace.manifest(hash_files(trace))
    theirs = json.dumps(json.loads(manifest.to_json()) | {"blender": "5.0", "scene_etag": "theirs"}).encode()
    store = ShippedMeanwhile(stack.store, theirs)
    shipper = ShotShipper(store, stack.settings.scenes_bucket, stack.settings.scenes_prefix)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"was shipped by another upload while this one ran"):
        shipper.ship(trace, changed, KEY)
    assert stack.store.read(stack.settings.scenes_bucket, manifest_key_for(KEY))[0] == theirs


def test_of_many_conditional_creates_at_once_exactly_one_wins(stack: Stack) -> None:
    # moto checks If-None-Match, then writes, with no lock: `local.embedded.moto_patches` makes the two one step, as on S3.
    bucket, won = stack.settings.scenes_bucket, []
    for trial in range(10):
        start = threading.Barrier(8)

        def create(writer: int, trial: int = trial, start: threading.Barrier = start) -> None:
            start.wait()
            try:
                stack.store.put(bucket, f"claims/{trial}", bytes([writer]) * (4 << 20), only_new=True)
                won.append(trial)
            except ConflictError:
                pass

        threads = [threading.Thread(target=create, args=(writer,)) for writer in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(won) == list(range(10))


def test_a_shot_a_worker_would_refuse_is_refused_before_a_byte_is_sent(stack: Stack, tmp_path: Path) -> None:
    trace, manifest = _shot(tmp_path / "projA" / "sh010", b"A")
    wood = manifest.files["textures/wood.png"]
    bad = Manifest(
        manifest.scene, manifest.blender, {"shot.blend": manifest.files["shot.blend"], "tex\\wood.png": wood}
    )
    shipper = ShotShipper(stack.store, stack.settings.scenes_bucket, stack.settings.scenes_prefix)
    with pytest.raises(ValidationError, match=r"file path `tex\\wood\.png` contains a backslash"):
        shipper.ship(trace, bad, KEY)
    assert stack.s3.list_objects_v2(Bucket=stack.settings.scenes_bucket).get("KeyCount", 0) == 0
