"""Every tile and every frame a render will read is checked: a UDIM set by the tiles its .blend lists, a sequence by
the frames the job's range reads through its image user (extend holds the last file: not a gap), before anything is
queued and again on the worker, and a frame whose Blender output says a file does not exist is never rendered."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from backend.commands import split_words
from backend.errors import ValidationError
from backend.render.grammar import parse_render
from backend.render.records import FrameOutcome, JobStatus
from backend.render.tasks import RenderTask

from .conftest import Stack
from .test_shots import _magenta, _mean, _render, _ship

pytestmark = pytest.mark.bpy


def test_a_udim_set_missing_a_tile_is_refused_naming_the_tile_before_anything_is_queued(
    stack: Stack, shots: Path
) -> None:
    shipped = _ship(stack, shots / "udim_gap" / "shot.blend")
    with pytest.raises(ValidationError) as refused:
        stack.service.submit(parse_render(split_words("udim_gap/shot.blend 1-2")), "U0ARTIST", channel="C1")
    assert "image wood uses tiles 1001–1002 of `//textures/wood.<UDIM>.png`: 1002 is not there" in str(
        refused.value
    )
    assert stack.queued_bodies() == [] and stack.jobs.recent("C1") == []
    assert shipped.manifest.images[0].tiles == (1001, 1002)


def test_a_sequence_missing_a_frame_the_range_reads_is_refused_and_a_range_that_does_not_read_it_is_not(
    stack: Stack, shots: Path
) -> None:
    _ship(stack, shots / "sequence_gap" / "shot.blend")
    with pytest.raises(ValidationError) as refused:
        stack.service.submit(
            parse_render(split_words("sequence_gap/shot.blend 1-4")), "U0ARTIST", channel="C1"
        )
    assert "image plate uses frames 1–4 of `//plates/plate.0001.png`: 3 is not there" in str(refused.value)
    assert stack.queued_bodies() == [] and stack.jobs.recent("C1") == []
    assert stack.service.submit(parse_render(split_words("sequence_gap/shot.blend 1-2")), "U0A", "C1").job
    allowed = stack.service.submit(
        parse_render(split_words("sequence_gap/shot.blend 1-4 --allow-missing")), "U0A", "C1"
    ).job
    assert (
        allowed is not None and allowed.missing_allowed == 1
    )  # the card says so; the worker lets it through


def test_a_sequence_shorter_than_the_shot_holds_its_last_frame_and_renders(
    stack: Stack, shots: Path, tmp_path: Path
) -> None:
    _ship(stack, shots / "sequence_short" / "shot.blend")
    frames = _render(stack, tmp_path, "scenes/sequence_short/shot.blend", "3-4")
    assert len(frames) == 2
    for frame in frames:
        red, green, blue = _mean(frame)
        assert _magenta(frame) == 0 and red > green > blue  # the plate's brown, held past its end


def test_a_hand_put_udim_set_missing_a_tile_is_refused_even_with_the_other_tile_under_assets(
    stack: Stack, shots: Path
) -> None:
    stack.put_scene("bare/shot.blend", (shots / "udim_gap" / "shot.blend").read_bytes())
    tile = (shots / "udim_gap" / "textures" / "wood.1001.png").read_bytes()
    stack.put_scene("bare/textures/wood.1001.png", tile)
    with pytest.raises(
        ValidationError, match=r"tiles 1001–1002 of `//textures/wood.<UDIM>.png`: 1002 is not"
    ):
        stack.service.submit(
            parse_render(split_words("bare/shot.blend 1 --assets bare")), "U0A", channel="C1"
        )


def test_the_worker_fails_a_frame_whose_sequence_file_is_gone_and_never_renders_magenta(
    stack: Stack, shots: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import backend.render.bare_scenes as bare_scenes

    monkeypatch.setattr(bare_scenes, "TRACE_AT_MOST_BYTES", 0)  # left to the worker, as a 300 MB scene is
    key = stack.put_scene("bare/shot.blend", (shots / "sequence_gap" / "shot.blend").read_bytes())
    for number in (1, 2, 4):
        name = f"plate.{number:04d}.png"
        stack.put_scene(f"bare/plates/{name}", (shots / "sequence_gap" / "plates" / name).read_bytes())
    frames = _render(stack, tmp_path, key, "2-3", "--assets bare")
    assert len(frames) == 1 and _magenta(frames[0]) == 0
    (job,) = stack.jobs.recent("C1")
    assert job.status is JobStatus.DONE_WITH_FAILURES and job.failed == 1
    errors = {record.frame: record.error for record in stack.jobs.frames(job.job_id)}
    assert "image `plate` reads `//plates/plate.0003.png` at frame 3" in errors[3]


def test_the_worker_fails_a_udim_set_missing_a_tile(
    stack: Stack, shots: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import backend.render.bare_scenes as bare_scenes

    monkeypatch.setattr(bare_scenes, "TRACE_AT_MOST_BYTES", 0)
    key = stack.put_scene("bare/shot.blend", (shots / "udim_gap" / "shot.blend").read_bytes())
    stack.put_scene(
        "bare/textures/wood.1001.png", (shots / "udim_gap" / "textures" / "wood.1001.png").read_bytes()
    )
    assert _render(stack, tmp_path, key, "1", "--assets bare") == []
    (job,) = stack.jobs.recent("C1")
    (record,) = stack.jobs.frames(job.job_id)
    assert "image `wood` (`//textures/wood.<UDIM>.png`: tile 1002)" in record.error


def test_a_frame_whose_blender_output_says_a_file_does_not_exist_is_failed_with_that_line(
    stack: Stack, shots: Path, tmp_path: Path
) -> None:
    from PIL import Image

    from backend.render.tasks import RenderSettings
    from blender_image.blender import BlenderRenderer
    from blender_image.scene_cache import SceneCache
    from blender_image.worker import RenderWorker

    line = "00:01.310  cycles | ERROR Image file '/cache/sh/textures/wood.1002.png' does not exist."

    class SaysAFileIsGone(BlenderRenderer):
        """Blender as the issue saw it: the frame is written (magenta), the only word of it on its output."""

        def _render(
            self,
            scene_path: Path,
            frame: int,
            settings: RenderSettings,
            out_stem: Path,
            allow_missing: bool,
            tile: int | None,
        ) -> Path:
            target = out_stem.parent / f"{out_stem.name}_{frame:04d}.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (32, 18), (253, 0, 253)).save(target)
            os.write(1, f"{line}\nFra:{frame} Mem:12M | Finished\n".encode())
            return target

    shipped = _ship(stack, shots / "textured" / "shot.blend")
    request = parse_render(split_words(f"{shipped.scene_key.removeprefix('scenes/')} 1-2"))
    job = stack.service.submit(request, requested_by="U0ARTIST", channel="C1").job
    assert job is not None
    worker = RenderWorker(
        jobs=stack.jobs,
        reporter=stack.reporter,
        scenes=SceneCache(stack.store, tmp_path / "cache", stack.settings.scenes_prefix),
        renderer=SaysAFileIsGone(),
        uploader=stack.store,
        work_dir=tmp_path,
    )
    for body in stack.queued_bodies():
        worker.run(RenderTask.from_json(body))
    done = stack.jobs.get(job.job_id)
    assert done.status is JobStatus.DONE_WITH_FAILURES and done.failed == 2
    records = stack.jobs.frames(job.job_id)
    assert all(record.outcome is FrameOutcome.FAILED for record in records)
    assert all(line.strip() in record.error for record in records)


def test_a_librarys_missing_texture_is_named_as_the_library_writes_it_next_to_the_library_as_the_artist_has_it(
    stack: Stack, shots: Path, tmp_path: Path
) -> None:
    import shutil

    import bpy

    studio = tmp_path / "studio"
    shutil.copytree(shots / "linked" / "lib", studio / "lib")
    (studio / "lib" / "textures" / "skin.png").unlink()
    (tmp_path / "sh020").mkdir()
    bpy.ops.wm.open_mainfile(filepath=str(shots / "linked" / "shot.blend"), load_ui=False)
    bpy.data.libraries[0].filepath = str(
        studio / "lib" / "character.blend"
    )  # a studio mount, by absolute path
    bpy.ops.wm.save_as_mainfile(
        filepath=str(tmp_path / "sh020" / "shot.blend"), relative_remap=False, copy=True
    )
    shipped = _ship(stack, tmp_path / "sh020" / "shot.blend")
    with pytest.raises(ValidationError) as refused:
        stack.service.submit(
            parse_render(split_words(f"{shipped.scene_key.removeprefix('scenes/')} 1")), "U0A", "C1"
        )
    library = (studio / "lib" / "character.blend").resolve()
    assert f"image skin.png uses `//textures/skin.png`: not found next to `{library}`" in str(refused.value)
    assert "_outside" not in str(refused.value)


def test_the_frame_a_sequence_user_reads_is_the_one_blender_reads(shots: Path, tmp_path: Path) -> None:
    """Blender says which plate file it could not read (files 1 and 2 exist): the rule agrees with every case."""
    from collections import deque

    import bpy

    from backend.render.image_sets import ImageUser
    from blender_image.blender import _blender_output
    from blender_image.complaints import complaints

    bpy.ops.wm.open_mainfile(filepath=str(shots / "sequence_short" / "shot.blend"), load_ui=False)
    scene = bpy.context.scene
    scene.render.engine, scene.cycles.samples = "CYCLES", 1
    scene.render.resolution_x = scene.render.resolution_y = 8
    scene.render.filepath = str(tmp_path / "frame.png")
    user = next(
        node.image_user for node in bpy.data.materials["Plate"].node_tree.nodes if node.type == "TEX_IMAGE"
    )
    for start, duration, offset, cyclic in (
        (3, 2, 0, False),
        (1, 2, 5, False),
        (2, 3, 10, True),
        (-1, 4, 20, True),
    ):
        user.frame_start, user.frame_duration, user.frame_offset, user.use_cyclic = (
            start,
            duration,
            offset,
            cyclic,
        )
        for frame in (-2, 1, 3, 5, 8):
            scene.frame_set(frame)
            said: list[str] = []
            with _blender_output(deque(maxlen=8), said):
                bpy.ops.render.render(write_still=True)
            number = ImageUser(start, duration, offset, cyclic).reads(frame)
            expected = [] if number in (1, 2) else [f"plate.{number:04d}.png' does not exist"]
            unread = [line.rsplit("/", 1)[-1].rstrip(".") for line in complaints(said)]
            assert unread == expected, (start, duration, offset, cyclic, frame, said)


def test_the_worker_names_a_file_laid_out_from_outside_the_shot_by_the_artists_path() -> None:
    from blender_image.missing import as_artist

    assert as_artist("/tmp/cache/shots/sh010/_outside/mnt/projects/lib/character.blend") == (
        "/mnt/projects/lib/character.blend"
    )
    assert as_artist("//lib/character.blend") == "//lib/character.blend"
