"""A frame's round trips that need not wait for each other, made side by side: the task's two reads of its job, and
a frame's uploads (the frame, its proxy, its layers' proxies). Each still fails as it would alone."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from backend.render.layer_previews import Uploader, upload_layer_proxies
from backend.render.ports import JobStore
from backend.render.records import Job
from backend.render.tasks import RenderTask

CONTENT_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".exr": "image/x-exr"}

_beside = ThreadPoolExecutor(max_workers=2, thread_name_prefix="delivery")  # boto3's clients are thread-safe


def job_and_recorded(jobs: JobStore, task: RenderTask) -> tuple[Job, set[int]]:
    """The task's job and which of its frames are recorded already, read at once (a GetItem beside a Query)."""
    recorded = _beside.submit(jobs.frames, task.job_id, min(task.frames), max(task.frames))
    try:
        job = jobs.get(task.job_id)
    finally:
        frames = recorded.result()  # never left running: its error (if any) after the job's
    return job, {record.frame for record in frames}


def upload_frame(
    uploader: Uploader, task: RenderTask, frame: int, written: Path, small: Path | None, layers: bool
) -> str:
    """Upload a frame, its proxy and (`layers`: several view layers) each layer's proxy, side by side; the frame's
    key. The local files are removed once sent."""
    key = task.output_key(frame, written.suffix)
    sent: list[Future[object]] = []
    if small is not None:  # the contact sheet, the GIF and the CLI read these, never the full frames
        sent.append(
            _beside.submit(uploader.upload, small, task.output_bucket, task.proxy_key(frame), "image/png")
        )
    if layers:  # a contact-sheet row each
        sent.append(
            _beside.submit(upload_layer_proxies, uploader, task.output_bucket, task.proxy_key(frame), written)
        )
    try:
        uploader.upload(written, task.output_bucket, key, CONTENT_TYPES.get(written.suffix))
    finally:
        for future in sent:
            future.result()
    written.unlink(missing_ok=True)
    if small is not None:
        small.unlink(missing_ok=True)
    return key
