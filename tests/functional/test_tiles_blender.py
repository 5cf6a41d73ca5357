"""Real Blender tiles on the moto stack: the sample shot rendered whole and as `--tiles 2x2` jobs, the stitched
frame compared with the whole one, pixel for pixel (PNG, with Blender's dither) and channel for channel (every
layer and pass of a multilayer EXR, read with OpenImageIO)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from backend.commands import split_words
from backend.render.grammar import parse_render
from backend.render.records import FrameOutcome, JobStatus
from backend.render.tasks import RenderTask
from blender_image.scene_cache import SceneCache
from blender_image.worker import RenderWorker

from .conftest import Stack
from .test_shots import _ship

pytestmark = pytest.mark.bpy
SETTINGS = "--res 64x36 --samples 4 --engine CYCLES"


def _job(stack: Stack, tmp_path: Path, key: str, extra: str) -> dict[str, bytes]:
    """Render frame 5 of the shot with real Blender; the job's outputs by file name."""
    from blender_image.blender import BlenderRenderer

    request = parse_render(split_words(f"{key.removeprefix('scenes/')} 5 {SETTINGS} {extra}"))
    job = stack.service.submit(request, requested_by="U0ARTIST", channel="C1").job
    assert job is not None
    worker = RenderWorker(
        jobs=stack.jobs,
        reporter=stack.reporter,
        scenes=SceneCache(stack.store, tmp_path / "cache", stack.settings.scenes_prefix),
        renderer=BlenderRenderer(),
        uploader=stack.store,
        work_dir=tmp_path,
    )
    tasks = [RenderTask.from_json(body) for body in stack.queued_bodies()]
    for task in tasks:
        worker.run(task)
    done = stack.jobs.get(job.job_id)
    assert done.status is JobStatus.DONE, stack.jobs.frames(job.job_id)
    assert [record.outcome for record in stack.jobs.frames(job.job_id)] == [FrameOutcome.DONE]
    listing = stack.s3.list_objects_v2(Bucket=stack.settings.outputs_bucket, Prefix=job.output_prefix)
    return {
        item["Key"].removeprefix(job.output_prefix): stack.s3.get_object(
            Bucket=stack.settings.outputs_bucket, Key=item["Key"]
        )["Body"].read()
        for item in listing.get("Contents", [])
    }


def _exr(body: bytes, folder: Path, name: str) -> tuple[tuple[str, ...], np.ndarray]:
    import OpenImageIO as oiio

    path = folder / name
    path.write_bytes(body)
    image = oiio.ImageBuf(str(path))
    return tuple(image.spec().channelnames), image.get_pixels(oiio.FLOAT)


def test_a_png_frame_stitched_from_blenders_tiles_is_the_whole_frame_to_the_bit(
    stack: Stack, sample_scene: Path, tmp_path: Path
) -> None:
    shipped = _ship(stack, sample_scene)
    whole = _job(stack, tmp_path / "whole", shipped.scene_key, "")
    tiled = _job(stack, tmp_path / "tiled", shipped.scene_key, "--tiles 2x2")
    assert sorted(tiled) == sorted(whole) == ["proxies/turntable_0005.png", "turntable_0005.png"]
    with (
        Image.open(io.BytesIO(whole["turntable_0005.png"])) as a,
        Image.open(io.BytesIO(tiled["turntable_0005.png"])) as b,
    ):
        assert a.size == b.size == (64, 36) and a.mode == b.mode
        assert a.tobytes() == b.tobytes()
        assert len(set(a.convert("RGB").getdata())) > 20  # a picture, not an empty frame


def test_every_layer_and_pass_of_a_multilayer_exr_is_stitched(
    stack: Stack, sample_scene: Path, tmp_path: Path
) -> None:
    shipped = _ship(stack, sample_scene)
    extra = "--format OPEN_EXR_MULTILAYER"
    whole = _job(stack, tmp_path / "whole", shipped.scene_key, extra)
    tiled = _job(stack, tmp_path / "tiled", shipped.scene_key, f"{extra} --tiles 3x2")
    assert sorted(tiled) == sorted(whole) == ["proxies/turntable_0005.png", "turntable_0005.exr"]
    names, pixels = _exr(whole["turntable_0005.exr"], tmp_path, "whole.exr")
    stitched_names, stitched = _exr(tiled["turntable_0005.exr"], tmp_path, "tiled.exr")
    assert stitched_names == names and any(".Combined." in name for name in names)
    assert stitched.shape == pixels.shape == (36, 64, len(names))
    assert float(np.abs(stitched - pixels).max()) == 0.0
    with Image.open(io.BytesIO(tiled["proxies/turntable_0005.png"])) as proxy:
        assert proxy.size == (64, 36)  # the stitched picture through the view transform
