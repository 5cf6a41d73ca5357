"""Faults benchmark, names: hostile names thrown at a real worker's cache on moto's server, and concurrent uploads of
the same shot name.

Each hostile name is tried three ways: as a `--as` shot name, as a key under a shot's own `--assets` folder (a
submitted job, rendered by a worker with a real SceneCache), and as a path in a hand-written manifest (a task that
names it given to the worker). The cache lies three folders deep in a sentinel folder; every file under the
sentinel but outside the cache is counted. Then pairs of uploads of different shot folders under one name run at once
(both start before either writes): an overwrite is an upload told it shipped whose manifest is not the one left.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import random
import tempfile
import threading
from pathlib import Path
from typing import Any

from backend.commands import split_words
from backend.errors import AwsError, ValidationError
from backend.render.grammar import parse_render
from backend.render.manifest import FileEntry, Manifest, content_key, manifest_key_for
from backend.render.shipping import ShotShipper, shot_key
from backend.render.shots import Dependency, ShotTrace, hash_files
from backend.render.tasks import RenderTask
from blender_image.scene_cache import SceneCache
from blender_image.worker import RenderWorker
from entry.wiring import Services
from local.embedded.stack import deploy, start_moto_server, use_local_aws
from testing.renderer import PillowRenderer

FIXED = [
    "../../../../PWNED.sh",
    "a/../../../../../../PWNED.sh",
    "..\\..\\PWNED.sh",
    "C:/PWNED.sh",
    "\u2215..\u2215PWNED.sh",
    "\u2044..\u2044PWNED.sh",
    "\uff0e\uff0e/\uff0e\uff0e/PWNED.sh",
    "\u2024\u2024/\u2024\u2024/PWNED.sh",
    "a//PWNED.sh",
    "./PWNED.sh",
    "a\u202e/PWNED.sh",
    "a\x07/PWNED.sh",
]
PIECES = [
    "..",
    ".",
    "/",
    "\\",
    "C:",
    "\u2215",
    "\u2044",
    "\uff0f",
    "\uff0e",
    "\u2024",
    "\u200b",
    "\n",
    "a",
    "PWNED.sh",
]
GENERATED, UPLOAD_PAIRS = 40, 10


def hostile_names(sentinel: Path) -> list[str]:
    """The fixed hostile names, an absolute one (into the sentinel, so that an escape is counted, never written
    anywhere else), and some made at random from the pieces of hostile names."""
    rng = random.Random(21)
    made = {"".join(rng.choices(PIECES, k=rng.randint(2, 8))) + "/PWNED.sh" for _ in range(GENERATED)}
    return [*FIXED, f"{sentinel.as_posix()}/PWNED.sh", *sorted(made)]


def _put(services: Services, key: str, body: bytes) -> str:
    return services.store.put(services.settings.scenes_bucket, key, body, "application/octet-stream")


def _hand_shipped(services: Services, folder: str) -> Manifest:
    """A shot as `studiobot upload` leaves it, written by hand (scene, content store, manifest)."""
    scene_key, scene = f"scenes/{folder}/shot.blend", b"BLENDER-v500 stand-in"
    files = {}
    for path, body in (("shot.blend", scene), ("textures/wood.png", b"png")):
        sha = hashlib.sha256(body).hexdigest()
        _put(services, content_key(services.settings.scenes_prefix, sha), body)
        files[path] = FileEntry(sha, len(body))
    manifest = Manifest(
        "shot.blend", "5.0", files, origin=f"bench:/{folder}", scene_etag=_put(services, scene_key, scene)
    )
    _put(services, manifest_key_for(scene_key), manifest.to_json().encode())
    return manifest


def _throw(services: Services, worker: RenderWorker, index: int, name: str) -> int:
    """One hostile name, three ways; how many were tried (S3 itself refuses some keys: those are not)."""
    with contextlib.suppress(ValidationError):
        shot_key(Path("/shots/sh010/shot.blend"), services.settings.scenes_prefix, name)
    tried = 2
    folder = f"keys{index}"
    _put(services, f"scenes/{folder}/shot.blend", b"BLENDER-v500 stand-in")
    try:
        _put(services, f"scenes/{folder}/{name}", b"#!/bin/sh\necho pwned\n")
    except AwsError:
        tried -= 1
    else:
        request = parse_render(split_words(f"{folder}/shot.blend 1 --assets {folder}"))
        services.submissions.submit(request, requested_by="U0ARTIST", channel="C1")
        worker.run(RenderTask.from_json(_take(services)))
    manifest = _hand_shipped(services, f"manifest{index}")
    request = parse_render(split_words(f"manifest{index}/shot.blend 1"))
    services.submissions.submit(request, requested_by="U0ARTIST", channel="C1")
    task = RenderTask.from_json(_take(services))
    written = json.loads(manifest.to_json())
    written["files"][name] = written["files"].pop("textures/wood.png")
    etag = _put(services, manifest_key_for(task.scene_key), json.dumps(written).encode())
    worker.run(dataclasses.replace(task, manifest_etag=etag))
    return tried + 1


def _take(services: Services) -> str:
    import boto3

    sqs = boto3.client("sqs")
    url = services.settings.render_queue_url
    (message,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return str(message["Body"])


def _outside(sentinel: Path, cache: Path) -> int:
    found = [Path(folder, name) for folder, _, names in os.walk(sentinel) for name in names]
    return sum(cache not in path.parents for path in found)


class AtOnce:
    """The real store; both uploads' first look at the name meet here, so neither has written anything yet."""

    def __init__(self, services: Services) -> None:
        self.store = services.store
        self.met: dict[str, threading.Barrier] = {}
        self.seen: set[tuple[str, str]] = set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def read(self, bucket: str, key: str) -> tuple[bytes, str]:
        me = (threading.current_thread().name, key)
        barrier = self.met.get(key)
        try:
            return self.store.read(bucket, key)
        finally:
            if barrier is not None and me not in self.seen:
                self.seen.add(me)
                barrier.wait()


def _shot(folder: Path, colour: bytes) -> tuple[ShotTrace, Manifest]:
    (folder / "textures").mkdir(parents=True)
    (folder / "shot.blend").write_bytes(b"BLENDER-v500 " + colour * 1000)
    (folder / "textures" / "wood.png").write_bytes(colour * 100_000)
    files = (
        Dependency("shot.blend", folder / "shot.blend", "the scene", "", ""),
        Dependency(
            "textures/wood.png",
            folder / "textures" / "wood.png",
            "image",
            "//textures/wood.png",
            "shot.blend",
        ),
    )
    trace = ShotTrace(folder, "shot.blend", "5.0", files, ())
    return trace, trace.manifest(hash_files(trace))


def _race(services: Services, scratch: Path, pair: int) -> tuple[int, int]:
    """Two shot folders shipped under one name at once: (uploads, overwrites)."""
    key = f"scenes/race{pair}/sh010/shot.blend"
    store = AtOnce(services)
    store.met[manifest_key_for(key)] = threading.Barrier(2, timeout=30)
    shipper = ShotShipper(store, services.settings.scenes_bucket, services.settings.scenes_prefix)  # type: ignore[arg-type]
    shipped: list[Manifest] = []

    def upload(who: str) -> None:
        trace, manifest = _shot(scratch / f"{who}{pair}" / "sh010", who.encode())
        with contextlib.suppress(ValidationError):  # the refusal: the other one has the name
            shipped.append(shipper.ship(trace, manifest, key).manifest)

    threads = [threading.Thread(target=upload, args=(who,), name=who) for who in ("A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    left = Manifest.from_json(services.store.read(services.settings.scenes_bucket, manifest_key_for(key))[0])
    return 2, sum(manifest != left for manifest in shipped)


def measure() -> dict[str, Any]:
    """Throw the hostile names and race the uploads; return the faults.json keys of issue 21's bullets 1 and 5."""
    logging.getLogger("studiobot-render").setLevel(logging.ERROR)
    logging.getLogger("backend.render.bare_scenes").setLevel(
        logging.ERROR
    )  # stand-in scenes, not .blend files
    server = start_moto_server()
    try:
        info = deploy(server.endpoint, stack_name="studiobot-bench-names")
        use_local_aws(server.endpoint)
        services = Services(info.settings())
        tried = outside = uploads = overwrites = 0
        with tempfile.TemporaryDirectory(prefix="studiobot-names-") as scratch:
            sentinel = Path(scratch) / "sentinel"
            cache = sentinel / "node" / "work" / "cache"
            worker = RenderWorker(
                jobs=services.jobs,
                reporter=services.reporter,
                scenes=SceneCache(services.store, cache, services.settings.scenes_prefix),
                renderer=PillowRenderer(),
                uploader=services.store,
                work_dir=Path(scratch) / "frames",
            )
            for index, name in enumerate(hostile_names(sentinel)):
                tried += _throw(services, worker, index, name)
            outside = _outside(sentinel, cache)
            for pair in range(UPLOAD_PAIRS):
                sent, overwritten = _race(services, Path(scratch) / "shots", pair)
                uploads, overwrites = uploads + sent, overwrites + overwritten
    finally:
        server.stop()
    return {
        "hostile_names_tried": tried,
        "files_outside_cache": outside,
        "concurrent_uploads": uploads,
        "upload_overwrites": overwrites,
    }


if __name__ == "__main__":
    print(json.dumps(measure(), indent=1))
