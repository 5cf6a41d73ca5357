"""The worker's side-by-side round trips (blender_image/glue.py) answer and fail as the calls would alone."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from backend.errors import NotFoundError, StudiobotError
from backend.render.records import FrameOutcome, FrameRecord, Job, JobStatus
from backend.render.tasks import RenderSettings, RenderTask
from blender_image.glue import Stages, job_and_recorded, upload_frame
from testing.jobs import InMemoryJobs


def _task(frames: tuple[int, ...] = (1, 2, 3)) -> RenderTask:
    return RenderTask(
        job_id="r1",
        task_index=0,
        scene_bucket="scenes",
        scene_key="scenes/shot010/shot.blend",
        scene_etag="e",
        frames=frames,
        settings=RenderSettings(resolution=(64, 36)),
        output_bucket="outputs",
        output_prefix="outputs/r1/",
    )


def _jobs() -> InMemoryJobs:
    jobs = InMemoryJobs(lambda: 1_800_000_000.0)
    job = Job(
        job_id="r1",
        status=JobStatus.RUNNING,
        scene_bucket="scenes",
        scene_key="scenes/shot010/shot.blend",
        scene_etag="e",
        frames_spec="1-3",
        total=3,
        task_count=1,
        settings=RenderSettings(resolution=(64, 36)),
        output_bucket="outputs",
        output_prefix="outputs/r1/",
    )
    jobs.create(job)
    return jobs


class Uploads:
    """Records what was uploaded, from which thread; refuses the keys it is told to."""

    def __init__(self, refuse: str = "") -> None:
        self.sent: dict[str, str] = {}
        self.refuse = refuse
        self.lock = threading.Lock()

    def upload(self, path: Path, bucket: str, key: str, content_type: str | None = None) -> None:
        if self.refuse and self.refuse in key:
            raise StudiobotError(f"Could not upload `{key}`: access denied.")
        with self.lock:
            self.sent[key] = path.read_text()


def test_the_job_and_its_recorded_frames_come_back_together() -> None:
    jobs = _jobs()
    jobs.record_frame("r1", FrameRecord(2, FrameOutcome.DONE, output_key="outputs/r1/shot_0002.png"))
    job, recorded = job_and_recorded(jobs, _task())
    assert (job.job_id, recorded) == ("r1", {2})


def test_a_job_that_is_gone_is_said_as_it_would_be_alone() -> None:
    with pytest.raises(NotFoundError, match="There is no render job `r9`"):
        job_and_recorded(_jobs(), RenderTask(**{**_task().__dict__, "job_id": "r9"}))


def test_a_frame_and_its_proxy_are_sent_and_removed(tmp_path: Path) -> None:
    frame, small = tmp_path / "shot_0001.png", tmp_path / "small.png"
    frame.write_text("frame")
    small.write_text("proxy")
    uploads = Uploads()
    key = upload_frame(uploads, _task(), 1, frame, small, layers=False)
    assert key == "outputs/r1/shot_0001.png"
    assert uploads.sent == {key: "frame", _task().proxy_key(1): "proxy"}
    assert not frame.exists() and not small.exists()


def test_a_proxy_that_cannot_be_sent_fails_the_delivery(tmp_path: Path) -> None:
    frame, small = tmp_path / "shot_0001.png", tmp_path / "small.png"
    frame.write_text("frame")
    small.write_text("proxy")
    with pytest.raises(StudiobotError, match="access denied"):
        upload_frame(Uploads(refuse="proxies"), _task(), 1, frame, small, layers=False)


def test_a_frames_log_line_keeps_the_delivery_behind_the_next_render_apart_from_its_path() -> None:
    stages = Stages()
    with stages("render"):
        pass
    with stages("upload", behind=True):
        pass
    stages.begin("record", behind=True)
    stages.end("record")
    fields = stages.fields()
    assert set(fields) == {"stages_ms", "stages_cpu_ms", "behind_ms", "behind_cpu_ms"}
    assert set(fields["stages_ms"]) == set(fields["stages_cpu_ms"]) == {"render"}
    assert set(fields["behind_ms"]) == set(fields["behind_cpu_ms"]) == {"upload", "record"}


def test_a_frame_delivered_at_once_logs_its_stages_as_before() -> None:
    stages = Stages()
    with stages("upload"):
        pass
    assert set(stages.fields()) == {"stages_ms", "stages_cpu_ms"}


def test_the_jobs_a_process_saw_are_remembered_safely_from_several_threads() -> None:
    """The courier records frames while the next task's job is read: both remember job items at once."""
    import threading

    from backend.render.store.table import SeenJobs

    seen = SeenJobs(most=4)
    errors: list[BaseException] = []

    def remember(offset: int) -> None:
        try:
            for index in range(20_000):
                seen.put(f"r{(index + offset) % 9}", {"n": index})
                seen.get(f"r{index % 9}")
        except BaseException as error:  # any error in a thread fails the test
            errors.append(error)

    threads = [threading.Thread(target=remember, args=(offset,)) for offset in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(seen.get(f"r{index}") is not None for index in range(9)) == 4
