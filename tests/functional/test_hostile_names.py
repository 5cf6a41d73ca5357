"""Names are data, never paths, on a real worker's cache: hostile `--as` names, keys under `--assets` and hand-written
manifests never create a file outside the cache, and the job fails with a sentence instead of reporting ✅."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

import pytest

from backend.commands import split_words
from backend.config import Limits
from backend.errors import ValidationError
from backend.render.grammar import parse_render
from backend.render.manifest import FileEntry, Manifest, content_key, manifest_key_for
from backend.render.records import FrameOutcome, JobStatus
from backend.render.shipping import shot_key
from backend.render.tasks import RenderTask
from blender_image.scene_cache import SceneCache
from blender_image.worker import RenderWorker
from testing.renderer import PillowRenderer

from .conftest import Stack

# As S3 keys after a shot's own folder: every one would land outside the cache if joined as a path.
HOSTILE_KEYS = [
    "../../../../../PWNED_BY_KEY.sh",
    "tex/../../../../../../PWNED_BY_KEY.sh",
    "..\\..\\..\\PWNED_BY_KEY.sh",
    "a/./../../../../../../PWNED_BY_KEY.sh",
    "\u2215..\u2215..\u2215PWNED_BY_KEY.sh",
    "\uff0e\uff0e/\uff0e\uff0e/\uff0e\uff0e/PWNED_BY_KEY.sh",
    "C:/PWNED_BY_KEY.sh",
    "a\u202e/hs.DEKWP",
    "a//PWNED_BY_KEY.sh",
]
HOSTILE_MANIFEST_PATHS = ["../../../../PWNED_BY_MANIFEST.sh", "textures/../../../../../PWNED_BY_MANIFEST.sh"]


def _outside(sentinel: Path, cache: Path) -> list[Path]:
    """Every file under `sentinel` that is not inside `cache`."""
    found = [Path(folder, name) for folder, _, names in os.walk(sentinel) for name in names]
    return [path for path in found if cache not in path.parents]


def _worker(stack: Stack, cache: Path, work: Path) -> RenderWorker:
    return RenderWorker(
        jobs=stack.jobs,
        reporter=stack.reporter,
        scenes=SceneCache(stack.store, cache, stack.settings.scenes_prefix),
        renderer=PillowRenderer(),
        uploader=stack.store,
        work_dir=work,
    )


def _put(stack: Stack, key: str, body: bytes) -> str:
    return str(stack.s3.put_object(Bucket=stack.settings.scenes_bucket, Key=key, Body=body)["ETag"]).strip(
        '"'
    )


def _hand_shipped(stack: Stack, folder: str) -> tuple[str, Manifest]:
    """A shot as `studiobot upload` leaves it (scene, content store, manifest), written by hand."""
    scene_key, scene, texture = f"scenes/{folder}/shot.blend", b"BLENDER-v500 not really", b"png"
    etag = _put(stack, scene_key, scene)
    files = {}
    for path, body in (("shot.blend", scene), ("textures/wood.png", texture)):
        sha = hashlib.sha256(body).hexdigest()
        _put(stack, content_key(stack.settings.scenes_prefix, sha), body)
        files[path] = FileEntry(sha, len(body))
    manifest = Manifest("shot.blend", "5.0", files, origin=f"host:/p/{folder}", scene_etag=etag)
    _put(stack, manifest_key_for(scene_key), manifest.to_json().encode())
    return scene_key, manifest


def _failed_with_a_sentence(stack: Stack, job_id: str) -> str:
    job = stack.jobs.get(job_id)
    (record,) = stack.jobs.frames(job_id)
    assert job.status is not JobStatus.DONE and job.failed == job.total == 1  # never ✅
    assert record.outcome is FrameOutcome.FAILED and record.error.endswith(".")
    return record.error


@pytest.mark.parametrize(
    "name", ["../../../../tmp/x", "/tmp/x", "projB/../../x", "..\\x", "proj\u2215x", "a//b"]
)
def test_a_hostile_shot_name_is_refused_before_anything_is_sent(tmp_path: Path, name: str) -> None:
    with pytest.raises(
        ValidationError, match=r"^The shot's name `.*`.*: give a plain relative path such as `projB/sh010`"
    ):
        shot_key(tmp_path / "sh010" / "shot.blend", "scenes/", name)


def test_hostile_keys_under_a_shots_own_folder_never_leave_the_workers_cache(
    stack: Stack, tmp_path: Path
) -> None:
    sentinel = tmp_path / "sentinel"
    cache = sentinel / "node" / "cache"
    for index, hostile in enumerate(HOSTILE_KEYS):
        folder = f"sh{index}"
        stack.put_scene(f"{folder}/shot.blend")
        _put(stack, f"scenes/{folder}/{hostile}", b"#!/bin/sh\necho pwned\n")
        request = parse_render(split_words(f"{folder}/shot.blend 1 --assets {folder}"))
        job = stack.service.submit(request, requested_by="U1", channel="C1").job
        assert job is not None
        worker = _worker(stack, cache, tmp_path / "work")
        for body in stack.queued_bodies():
            worker.run(RenderTask.from_json(body))
        assert _outside(sentinel, cache) == []
        said = _failed_with_a_sentence(stack, job.job_id)
        assert said.startswith("The support file `") and "give a plain relative path" in said


def test_assets_must_name_the_shots_own_folder(stack: Stack) -> None:
    stack.put_scene("sh010/shot.blend")
    for words in ("sh010/shot.blend 1 --assets scenes", "sh010/shot.blend 1 --assets sh011/textures"):
        with pytest.raises(
            ValidationError, match=r"is not the folder of `sh010/shot\.blend`.*--assets sh010/textures"
        ):
            stack.service.submit(parse_render(split_words(words)), requested_by="U1")
    stack.put_scene("top.blend")
    with pytest.raises(ValidationError, match=r"is not the folder of `top\.blend`"):
        stack.service.submit(parse_render(split_words("top.blend 1 --assets scenes")), requested_by="U1")
    assert stack.queued_bodies() == []


@pytest.mark.parametrize("hostile", [*HOSTILE_MANIFEST_PATHS, "sha256:../../../../PWNED_BY_MANIFEST.sh"])
def test_a_hand_written_hostile_manifest_fails_the_job_and_writes_nothing_outside(
    stack: Stack, tmp_path: Path, hostile: str
) -> None:
    scene_key, manifest = _hand_shipped(stack, "sh010")
    job = stack.service.submit(parse_render(split_words("sh010/shot.blend 1")), "U1", channel="C1").job
    assert job is not None
    (task,) = [RenderTask.from_json(body) for body in stack.queued_bodies()]
    # GIVEN someone who may upload rewrites the manifest by hand after the job was queued
    written = json.loads(manifest.to_json())
    wood = written["files"].pop("textures/wood.png")
    if hostile.startswith("sha256:"):
        written["files"]["textures/wood.png"] = wood | {"sha256": hostile.removeprefix("sha256:")}
    else:
        written["files"][hostile] = wood
    etag = _put(stack, manifest_key_for(scene_key), json.dumps(written).encode())
    # THEN a submission of it is refused with a sentence, before anything is queued
    with pytest.raises(ValidationError, match=r"^`scenes/sh010/shot\.blend`: The shot's manifest is "):
        stack.service.submit(parse_render(split_words("sh010/shot.blend 1")), "U1", channel="C2")
    # AND a worker given a task that names it (queued before the check, or by anything else) fails it for good
    sentinel = tmp_path / "sentinel"
    cache = sentinel / "a" / "b" / "cache"
    _worker(stack, cache, tmp_path / "work").run(dataclasses.replace(task, manifest_etag=etag))
    assert _outside(sentinel, cache) == []
    assert _failed_with_a_sentence(stack, job.job_id).startswith("The shot's manifest is ")


def test_a_shot_over_the_size_cap_is_refused_before_a_byte_is_downloaded(
    stack: Stack, tmp_path: Path
) -> None:
    _hand_shipped(stack, "sh010")  # 26 bytes in all
    job = stack.service.submit(parse_render(split_words("sh010/shot.blend 1")), "U1", channel="C1").job
    assert job is not None
    cache = SceneCache(stack.store, tmp_path / "cache", stack.settings.scenes_prefix, max_shot_bytes=20)
    worker = _worker(stack, tmp_path / "cache", tmp_path / "work")
    worker.scenes = cache
    for body in stack.queued_bodies():
        worker.run(RenderTask.from_json(body))
    assert cache.downloads == 1 and not (tmp_path / "cache").exists()  # its manifest only, read to size it
    said = _failed_with_a_sentence(stack, job.job_id)
    assert "more than the 0 GB a render node takes for one shot" in said and "STUDIOBOT_MAX_SHOT_GB" in said
    small = dataclasses.replace(stack.settings, limits=Limits(max_shot_bytes=20))
    stack.service.settings = small
    with pytest.raises(
        ValidationError, match=r"`scenes/sh010/shot\.blend` holds 0\.0 GB, more than the 0 GB"
    ):
        stack.service.submit(parse_render(split_words("sh010/shot.blend 1")), "U1", channel="C2")
