"""A frame whose own files are missing (a plate frame, a line of Blender's output) fails alone and for good: the
task's other frames still render, and nothing is tried again."""

from __future__ import annotations

from pathlib import Path

from backend.commands import split_words
from backend.render.grammar import parse_render
from backend.render.records import FrameOutcome, JobStatus
from backend.render.tasks import RenderSettings, RenderTask
from blender_image.scene_cache import SceneCache
from blender_image.worker import MissingFiles, RenderWorker
from testing.renderer import PillowRenderer

from .conftest import Stack


class PlateFrameGone(PillowRenderer):
    """Frame 2 reads a plate frame that is not there, as Blender's per-frame check finds it."""

    def render(
        self,
        scene_path: Path,
        frame: int,
        settings: RenderSettings,
        out_stem: Path,
        allow_missing: bool = False,
        tile: int | None = None,
    ) -> Path:
        if frame == 2:
            reason = "Blender cannot find image `plate` reads `//plates/plate.0002.png` at frame 2"
            raise MissingFiles(reason, frame_only=True)
        return super().render(scene_path, frame, settings, out_stem, allow_missing, tile)


def test_a_frame_missing_its_own_file_fails_alone_and_the_chunks_other_frames_render(
    stack: Stack, tmp_path: Path
) -> None:
    stack.put_scene()
    request = parse_render(split_words("shot.blend 1-3 --chunk 3 --res 32x18"))
    job = stack.service.submit(request, requested_by="U1", channel="C1").job
    assert job is not None
    worker = RenderWorker(
        jobs=stack.jobs,
        reporter=stack.reporter,
        scenes=SceneCache(stack.store, tmp_path / "scenes"),
        renderer=PlateFrameGone(),
        uploader=stack.store,
        work_dir=tmp_path,
    )
    (body,) = stack.queued_bodies()
    worker.run(RenderTask.from_json(body))  # no FramesFailed: nothing to try again
    outcomes = {record.frame: record.outcome for record in stack.jobs.frames(job.job_id)}
    assert outcomes == {1: FrameOutcome.DONE, 2: FrameOutcome.FAILED, 3: FrameOutcome.DONE}
    final = stack.jobs.get(job.job_id)
    assert (final.status, final.done, final.failed) == (JobStatus.DONE_WITH_FAILURES, 2, 1)
