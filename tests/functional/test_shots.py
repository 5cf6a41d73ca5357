"""Real shots, built with bpy the way artists lay them out: traced, shipped once, refused when incomplete, rendered
with every file they use (the frames are looked at: the texture's colour, never Blender's missing-texture magenta)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from PIL import Image

from backend.commands import split_words
from backend.errors import ValidationError
from backend.events import JobCompleted
from backend.render.grammar import parse_render
from backend.render.manifest import Manifest, manifest_key_for
from backend.render.records import FrameOutcome, JobStatus
from backend.render.shipping import Shipped, ShotShipper, shot_key
from backend.render.shots import hash_files, trace_shot
from backend.render.tasks import RenderTask
from blender_image.scene_cache import SceneCache
from blender_image.worker import RenderWorker

from .conftest import Stack

pytestmark = pytest.mark.bpy


def _ship(stack: Stack, scene: Path) -> Shipped:
    trace = trace_shot(scene)
    manifest = trace.manifest(hash_files(trace))
    shipper = ShotShipper(stack.store, stack.settings.scenes_bucket, stack.settings.scenes_prefix)
    return shipper.ship(trace, manifest, shot_key(scene, stack.settings.scenes_prefix))


def _render(stack: Stack, tmp_path: Path, key: str, frames: str = "1", extra: str = "") -> list[Image.Image]:
    """Submit the shot, render every task with real Blender, and return the frames as written to S3."""
    from blender_image.blender import BlenderRenderer

    request = parse_render(split_words(f"{key.removeprefix('scenes/')} {frames} {extra}"))
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
    for body in stack.queued_bodies():
        worker.run(RenderTask.from_json(body))
    pictures = []
    for record in stack.jobs.frames(job.job_id):
        if record.outcome is FrameOutcome.DONE and record.output_key.endswith(".png"):
            body = stack.s3.get_object(Bucket=job.output_bucket, Key=record.output_key)["Body"].read()
            pictures.append(Image.open(io.BytesIO(body)).convert("RGB"))
    return pictures


def _magenta(picture: Image.Image) -> float:
    """The share of pixels in Blender's missing-texture magenta (≈ 253, 0, 253)."""
    pixels = list(picture.get_flattened_data())
    return sum(1 for r, g, b in pixels if r > 200 and b > 200 and g < 60) / len(pixels)


def _mean(picture: Image.Image) -> tuple[float, float, float]:
    pixels = list(picture.get_flattened_data())
    return tuple(sum(channel) / len(pixels) for channel in zip(*pixels, strict=True))  # type: ignore[return-value]


def test_a_texture_beside_the_shot_travels_with_it_and_is_what_the_frame_shows(
    stack: Stack, shots: Path, tmp_path: Path
) -> None:
    shipped = _ship(stack, shots / "textured" / "shot.blend")
    assert shipped.scene_key == "scenes/textured/shot.blend"
    assert set(shipped.manifest.files) == {"shot.blend", "textures/wood.png"}
    assert shipped.manifest.blender == "5.0" and shipped.manifest.missing == ()
    (frame,) = _render(stack, tmp_path, shipped.scene_key)
    red, green, blue = _mean(frame)
    assert _magenta(frame) == 0 and red > green > blue  # the brown of wood.png


def test_a_missing_texture_is_refused_naming_it_before_anything_is_queued(stack: Stack, shots: Path) -> None:
    shipped = _ship(stack, shots / "missing" / "shot.blend")
    assert [item.written_as for item in shipped.manifest.missing] == ["//textures/wood.png"]
    request = parse_render(split_words("missing/shot.blend 1-60"))
    with pytest.raises(ValidationError) as refused:
        stack.service.submit(request, requested_by="U0ARTIST", channel="C1")
    assert str(refused.value).startswith(
        "`shot.blend` needs file that is not there: image wood.png uses `//textures/wood.png`: not found next "
        "to `shot.blend`."
    )
    assert "studiobot upload" in str(refused.value) and "--allow-missing" in str(refused.value)
    assert stack.queued_bodies() == [] and stack.jobs.recent("C1") == []


def test_allow_missing_renders_without_the_files_on_purpose_and_the_job_remembers(
    stack: Stack, shots: Path, tmp_path: Path
) -> None:
    shipped = _ship(stack, shots / "missing" / "shot.blend")
    frames = _render(stack, tmp_path, shipped.scene_key, "1-2", "--allow-missing")
    (job,) = stack.jobs.recent("C1")
    assert job.missing_allowed == 1 and job.status is JobStatus.DONE  # the card says so (test_blocks)
    assert len(frames) == 2 and all(_magenta(frame) > 0.5 for frame in frames)  # what the artist asked for


def test_a_scene_put_in_the_bucket_by_hand_is_traced_and_refused_before_anything_is_queued(
    stack: Stack, shots: Path
) -> None:
    stack.put_scene("bare/shot.blend", (shots / "missing" / "shot.blend").read_bytes())  # no manifest
    with pytest.raises(
        ValidationError, match=r"image wood.png uses `//textures/wood.png`: not found next to"
    ):
        stack.service.submit(parse_render(split_words("bare/shot.blend 1-2")), "U0ARTIST", channel="C1")
    assert stack.queued_bodies() == [] and stack.jobs.recent("C1") == []


def test_a_hand_put_scene_is_traced_once_and_its_manifest_written(
    stack: Stack, shots: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import backend.render.shots as shots_module

    traced: list[Path] = []
    real_trace = shots_module.trace_shot
    monkeypatch.setattr(shots_module, "trace_shot", lambda scene: traced.append(scene) or real_trace(scene))
    key = stack.put_scene("bare3/shot.blend", (shots / "textured" / "shot.blend").read_bytes())
    request = parse_render(split_words("bare3/shot.blend 1 --assets bare3/textures"))
    stack.put_scene("bare3/textures/other.png", b"not the texture")
    with pytest.raises(ValidationError, match=r"wood\.png"):
        stack.service.submit(request, "U0ARTIST", channel="C1")
    written = Manifest.from_json(stack.store.read(stack.settings.scenes_bucket, manifest_key_for(key))[0])
    assert written.traced and written.scene_etag == stack.store.head(stack.settings.scenes_bucket, key).etag
    assert [use.written_as for use in written.uses] == ["//textures/wood.png"] and written.blender == "5.0"
    # The artist uploads the texture: found at once, without tracing the scene again.
    stack.put_scene("bare3/textures/wood.png", (shots / "textured" / "textures" / "wood.png").read_bytes())
    assert stack.service.submit(request, "U0ARTIST", channel="C1").job is not None
    assert len(traced) == 1
    # A new version of the scene put at the same key is traced again.
    stack.put_scene("bare3/shot.blend", (shots / "missing" / "shot.blend").read_bytes() + b"\0")
    with pytest.raises(ValidationError, match=r"wood\.png"):
        stack.service.submit(parse_render(split_words("bare3/shot.blend 1")), "U0ARTIST", channel="C1")
    assert len(traced) == 2


def test_a_scene_put_by_hand_over_a_shipped_shot_is_traced_not_trusted_to_the_old_manifest(
    stack: Stack, shots: Path
) -> None:
    shipped = _ship(stack, shots / "textured" / "shot.blend")
    stack.put_scene(
        shipped.scene_key.removeprefix("scenes/"), (shots / "missing" / "shot.blend").read_bytes()
    )
    with pytest.raises(ValidationError, match=r"wood\.png"):
        stack.service.submit(
            parse_render(split_words(f"{shipped.scene_key.removeprefix('scenes/')} 1")),
            "U0ARTIST",
            channel="C1",
        )


def test_a_hand_put_scene_with_its_support_files_under_assets_renders_them(
    stack: Stack, shots: Path, tmp_path: Path
) -> None:
    key = stack.put_scene("bare2/shot.blend", (shots / "textured" / "shot.blend").read_bytes())
    stack.put_scene("bare2/textures/wood.png", (shots / "textured" / "textures" / "wood.png").read_bytes())
    (frame,) = _render(stack, tmp_path, key, "1", "--assets bare2/textures")
    red, green, blue = _mean(frame)
    assert _magenta(frame) == 0 and red > green > blue


def test_a_scene_too_large_to_trace_on_submission_still_never_renders_magenta(
    stack: Stack, shots: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import backend.render.bare_scenes as bare_scenes

    monkeypatch.setattr(bare_scenes, "TRACE_AT_MOST_BYTES", 0)  # as a 300 MB scene is, for the bot's Lambda
    key = stack.put_scene("bare/shot.blend", (shots / "missing" / "shot.blend").read_bytes())
    assert _render(stack, tmp_path, key, "1-2") == []
    (job,) = stack.jobs.recent("C1")
    assert job.status is JobStatus.DONE_WITH_FAILURES and job.failed == 2
    reasons = {record.error for record in stack.jobs.frames(job.job_id)}
    assert reasons == {"Blender cannot find image `wood.png` (`//textures/wood.png`)"}
    (completed,) = [event for event in stack.events() if isinstance(event, JobCompleted)]
    assert completed.failed_frames == [1, 2]


def test_a_linked_library_and_its_own_texture_are_found_and_rendered(
    stack: Stack, shots: Path, tmp_path: Path
) -> None:
    shipped = _ship(stack, shots / "linked" / "shot.blend")
    assert set(shipped.manifest.files) == {"shot.blend", "lib/character.blend", "lib/textures/skin.png"}
    (frame,) = _render(stack, tmp_path, shipped.scene_key)
    red, green, blue = _mean(frame)
    assert _magenta(frame) == 0 and green > red and green > blue  # the character's green skin


def test_a_compressed_shot_is_traced(stack: Stack, shots: Path, tmp_path: Path) -> None:
    assert (shots / "compressed" / "shot.blend").read_bytes()[:4] == b"\x28\xb5\x2f\xfd"  # zstd
    shipped = _ship(stack, shots / "compressed" / "shot.blend")
    assert set(shipped.manifest.files) == {"shot.blend", "textures/wood.png"}
    (frame,) = _render(stack, tmp_path, shipped.scene_key)
    assert _magenta(frame) == 0


def test_an_image_sequence_ships_every_frame_of_the_plate(stack: Stack, shots: Path, tmp_path: Path) -> None:
    shipped = _ship(stack, shots / "sequence" / "shot.blend")
    assert {path for path in shipped.manifest.files if path.startswith("plates/")} == {
        f"plates/plate.{frame:04d}.png" for frame in range(1, 5)
    }
    frames = _render(stack, tmp_path, shipped.scene_key, "1-4")
    assert len(frames) == 4 and all(_magenta(frame) == 0 for frame in frames)


def test_a_texture_by_absolute_path_outside_the_shot_is_packed_and_found_again(
    stack: Stack, shots: Path, tmp_path: Path
) -> None:
    shipped = _ship(stack, shots / "elsewhere" / "shot.blend")
    (outside,) = [path for path in shipped.manifest.files if path != "shot.blend"]
    assert outside.startswith("_outside/") and outside.endswith("studio_library/oak.png")
    assert shipped.manifest.remaps == {str(shots / "studio_library" / "oak.png"): outside}
    (frame,) = _render(stack, tmp_path, shipped.scene_key)
    red, green, blue = _mean(frame)
    assert _magenta(frame) == 0 and blue > red and blue > green  # the library's blue oak


def test_udim_tiles_and_a_sound_from_outside_the_shot_travel_as_their_templates(
    stack: Stack, shots: Path, tmp_path: Path
) -> None:
    shipped = _ship(stack, shots / "tiled" / "shot.blend")
    library = f"_outside{(shots / 'studio_library').resolve()}"
    assert set(shipped.manifest.files) == {
        "shot.blend",
        f"{library}/tiles/cloth.1001.png",
        f"{library}/tiles/cloth.1002.png",
        f"{library}/room_tone.wav",
    }
    tiles = str((shots / "studio_library" / "tiles" / "cloth.<UDIM>.png").resolve())
    assert shipped.manifest.remaps[tiles] == f"{library}/tiles/cloth.<UDIM>.png"  # one template, every tile
    (frame,) = _render(stack, tmp_path, shipped.scene_key)
    red, green, blue = _mean(frame)
    assert _magenta(frame) == 0 and green > red and blue > red  # tile 1001's cyan


def test_a_missing_sound_is_named_at_submission_and_by_blender_itself_on_the_worker(
    stack: Stack, shots: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bpy

    import backend.render.bare_scenes as bare_scenes

    bpy.ops.wm.open_mainfile(filepath=str(shots / "tiled" / "shot.blend"), load_ui=False)
    bpy.data.sounds["room_tone.wav"].filepath = "/nowhere/room_tone.wav"
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "shot.blend"), relative_remap=False, copy=True)
    key = stack.put_scene("nosound/shot.blend", (tmp_path / "shot.blend").read_bytes())
    with pytest.raises(
        ValidationError, match=r"sound room_tone.wav uses `/nowhere/room_tone.wav`: not found"
    ):
        stack.service.submit(parse_render(split_words("nosound/shot.blend 1")), "U0ARTIST", channel="C1")
    monkeypatch.setattr(bare_scenes, "TRACE_AT_MOST_BYTES", 0)  # left to the worker, as a 300 MB scene is
    stack.s3.delete_object(Bucket=stack.settings.scenes_bucket, Key=manifest_key_for(key))
    assert _render(stack, tmp_path / "worker", key) == []
    (job,) = stack.jobs.recent("C1")
    (record,) = stack.jobs.frames(job.job_id)
    assert record.error == "Blender cannot find sound `room_tone.wav` (`/nowhere/room_tone.wav`)"


def test_shipping_an_unchanged_shot_again_sends_nothing(stack: Stack, shots: Path) -> None:
    first = _ship(stack, shots / "textured" / "shot.blend")
    again = _ship(stack, shots / "textured" / "shot.blend")
    assert first.files_sent == 2 and first.bytes_sent == first.manifest.total_bytes
    assert again.files_sent == 0 and again.bytes_sent == 0 and again.files_kept == 2


def test_two_shot_folders_of_the_same_name_never_overwrite_each_other(stack: Stack, shots: Path) -> None:
    first = _ship(stack, shots / "textured" / "shot.blend")
    other = shots / "other_textured" / "shot.blend"
    trace = trace_shot(other)
    manifest = trace.manifest(hash_files(trace))
    shipper = ShotShipper(stack.store, stack.settings.scenes_bucket, stack.settings.scenes_prefix)
    same_name = shot_key(
        other, stack.settings.scenes_prefix, name="textured"
    )  # projB/textured vs projA/textured
    assert same_name == first.scene_key
    with pytest.raises(
        ValidationError, match=r"already holds the shot shipped from `.*textured`.*--as project/shot"
    ):
        shipper.ship(trace, manifest, same_name)
    assert stack.store.read(stack.settings.scenes_bucket, manifest_key_for(first.scene_key))[0] == (
        first.manifest.to_json().encode()
    )  # nothing of the other shot was sent over it
    own = shipper.ship(trace, manifest, shot_key(other, stack.settings.scenes_prefix, name="projB/textured"))
    assert own.scene_key == "scenes/projB/textured/shot.blend"
    assert (
        shipper.ship(trace, manifest, same_name, replace=True).files_sent == 0
    )  # on purpose: every file is in the content store already, the scene copied to its key inside S3
    scene = stack.s3.get_object(Bucket=stack.settings.scenes_bucket, Key=same_name)["Body"].read()
    assert scene == other.read_bytes()


def test_two_shots_with_the_same_texture_path_never_see_each_others_file(
    stack: Stack, shots: Path, tmp_path: Path
) -> None:
    wood = _ship(stack, shots / "textured" / "shot.blend")
    other = _ship(stack, shots / "other_textured" / "shot.blend")
    assert wood.manifest.files["textures/wood.png"] != other.manifest.files["textures/wood.png"]
    (brown,) = _render(stack, tmp_path / "a", wood.scene_key)
    (yellow,) = _render(stack, tmp_path / "b", other.scene_key)
    assert _mean(brown)[2] < 80 and _mean(yellow)[0] > 150 and _mean(yellow)[1] > 150


def test_a_shot_saved_by_a_newer_blender_is_refused_with_both_versions(stack: Stack, shots: Path) -> None:
    shipped = _ship(stack, shots / "textured" / "shot.blend")
    newer = json.loads(shipped.manifest.to_json()) | {"blender": "5.1"}
    stack.s3.put_object(
        Bucket=stack.settings.scenes_bucket, Key=manifest_key_for(shipped.scene_key), Body=json.dumps(newer)
    )
    assert Manifest.from_json(json.dumps(newer)).blender == "5.1"
    with pytest.raises(ValidationError, match=r"saved by Blender 5\.1, newer than the farm's 5\.0"):
        stack.service.submit(parse_render(split_words("textured/shot.blend 1")), requested_by="U0ARTIST")


def test_the_cli_refuses_an_incomplete_shot_before_sending_a_byte(
    stack: Stack, shots: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import typer

    from local.cli.ship import ship

    with pytest.raises(typer.Exit):
        ship(stack.settings, shots / "missing" / "shot.blend")
    said = " ".join(capsys.readouterr().out.split())
    assert "image wood.png uses `//textures/wood.png`: not found next to `shot.blend`" in said
    assert stack.s3.list_objects_v2(Bucket=stack.settings.scenes_bucket).get("KeyCount", 0) == 0


def test_the_cli_ships_a_shot_and_says_what_it_sent(
    stack: Stack, shots: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from local.cli.ship import ship

    ship(stack.settings, shots / "linked" / "shot.blend")
    ship(stack.settings, shots / "linked" / "shot.blend")
    said = " ".join(capsys.readouterr().out.split())
    shot = r"Shot scenes/linked/shot\.blend: 3 file\(s\), ([\d.,]+ [KM]B); "
    assert re.search(shot + r"sent 3 \(\1\), 0 already in the bucket\.", said)
    assert re.search(shot + r"sent 0 \(0 B\), 3 already in the bucket\.", said)


def _output_keys(stack: Stack) -> list[str]:
    listing = stack.s3.list_objects_v2(Bucket=stack.settings.outputs_bucket, Prefix="outputs/")
    return sorted(item["Key"] for item in listing.get("Contents", []))


def _proxy(stack: Stack, key: str) -> Image.Image:
    body = stack.s3.get_object(Bucket=stack.settings.outputs_bucket, Key=key)["Body"].read()
    return Image.open(io.BytesIO(body)).convert("RGB")


def test_a_multilayer_exr_shot_renders_as_it_is_with_a_proxy_for_the_previews(
    stack: Stack, shots: Path, tmp_path: Path
) -> None:
    shipped = _ship(stack, shots / "multilayer" / "shot.blend")
    assert _render(stack, tmp_path, shipped.scene_key, "1") == []  # not a picture Pillow reads: an EXR
    (exr,) = [key for key in _output_keys(stack) if key.endswith("/shot_0001.exr")]
    body = stack.s3.get_object(Bucket=stack.settings.outputs_bucket, Key=exr)["Body"].read()
    assert body[:4] == b"\x76\x2f\x31\x01"  # OpenEXR's magic number
    assert b"ViewLayer.Combined.R" in body[:4096]  # multilayer: passes named by layer, not a flat RGBA
    proxy = _proxy(stack, next(key for key in _output_keys(stack) if key.endswith("/proxies/shot_0001.png")))
    red, green, blue = _mean(proxy)
    assert _magenta(proxy) == 0 and red > green > blue  # the wood, through the scene's view transform


def test_multilayer_exr_can_be_asked_of_any_shot(stack: Stack, shots: Path, tmp_path: Path) -> None:
    shipped = _ship(stack, shots / "textured" / "shot.blend")
    _render(stack, tmp_path, shipped.scene_key, "1", "--format EXR_MULTILAYER")
    keys = _output_keys(stack)
    assert any(key.endswith("/shot_0001.exr") for key in keys)
    assert any(key.endswith("/proxies/shot_0001.png") for key in keys)


class CountingStore:
    """The scenes bucket as the worker's cache reads it, counting what it downloads (wraps the moto store)."""

    def __init__(self, store: object) -> None:
        self.store = store
        self.keys: list[str] = []

    def download(self, bucket: str, key: str, path: Path, etag: str | None = None) -> None:
        self.keys.append(key)
        self.store.download(bucket, key, path, etag)  # type: ignore[attr-defined]

    def list_prefix(self, bucket: str, prefix: str) -> list:  # type: ignore[type-arg]
        return self.store.list_prefix(bucket, prefix)  # type: ignore[attr-defined,no-any-return]

    def read(self, bucket: str, key: str) -> tuple[bytes, str]:
        return self.store.read(bucket, key)  # type: ignore[attr-defined,no-any-return]


def _task(stack: Stack, key: str) -> RenderTask:
    job = stack.service.submit(parse_render(split_words(f"{key.removeprefix('scenes/')} 1")), "U0ARTIST").job
    assert job is not None
    (body,) = stack.queued_bodies()
    return RenderTask.from_json(body)


def test_the_workers_cache_shares_files_between_shots_and_stays_under_its_cap(
    stack: Stack, shots: Path, tmp_path: Path
) -> None:
    linked = _task(stack, _ship(stack, shots / "linked" / "shot.blend").scene_key)
    textured = _task(stack, _ship(stack, shots / "textured" / "shot.blend").scene_key)
    compressed = _task(stack, _ship(stack, shots / "compressed" / "shot.blend").scene_key)
    store = CountingStore(stack.store)
    cache = SceneCache(store, tmp_path / "cache", stack.settings.scenes_prefix)
    scene = cache.scene_path(textured)
    assert (scene.parent / "textures" / "wood.png").read_bytes() == (
        shots / "textured/textures/wood.png"
    ).read_bytes()
    cache.scene_path(compressed)  # the same wood.png by content: laid out again, not downloaded again
    assert sum("/_cas/" in key for key in store.keys) == 1
    assert len(store.keys) == 3  # one texture and the two scenes
    assert (
        cache.scene_path(textured) == scene and len(store.keys) == 3
    )  # a shot laid out already: nothing new

    small = SceneCache(
        CountingStore(stack.store), tmp_path / "small", stack.settings.scenes_prefix, max_bytes=300
    )
    small.scene_path(linked)  # character.blend (big) and skin.png: more than the cap between them
    blobs = list((tmp_path / "small" / "cas").iterdir())
    assert sum(blob.stat().st_size for blob in blobs) <= max(300, max(b.stat().st_size for b in blobs))
    laid_out = small.scene_path(linked).parent
    assert (
        laid_out / "lib" / "textures" / "skin.png"
    ).exists()  # an evicted cache copy leaves the shot whole


def test_a_failed_frame_carries_what_blender_said(stack: Stack, shots: Path, tmp_path: Path) -> None:
    shipped = _ship(stack, shots / "nocamera" / "shot.blend")
    request = parse_render(split_words("nocamera/shot.blend 1"))
    job = stack.service.submit(request, requested_by="U0ARTIST", channel="C1").job
    assert job is not None
    from blender_image.blender import BlenderRenderer

    task = RenderTask.from_json(stack.queued_bodies()[0])
    scene = SceneCache(stack.store, tmp_path / "cache", stack.settings.scenes_prefix).scene_path(task)
    with pytest.raises(RuntimeError) as failed:
        BlenderRenderer().render(scene, 1, task.settings, tmp_path / "shot")
    assert str(failed.value).startswith("the scene `Scene` has no active camera. Blender said: ")
    assert "Read blend" in str(failed.value) and shipped.scene_key
