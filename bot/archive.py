"""The frames of an ended job, for the thread reply: one link that stays valid `linkDays`, whatever the job's size.

Up to `MAX_ZIP_BYTES`, a zip streamed S3 to S3 in multipart parts (constant memory, no local disk); past it, an
index page with a link to every frame, and the `aws s3 sync` command that fetches them all. Both lie under
`previews/`, where the bucket's lifecycle rule removes them when the links lapse. A zip already built (a retried
reply) is used as it is: nothing is read again. Every link is one studiobot signed (`backend.render.links`), never
a presigned URL: those die with the role session that made them.
"""

from __future__ import annotations

import html
import zipfile
from dataclasses import dataclass

from backend.aws.s3 import ObjectInfo, S3Store
from backend.render.links import Links
from backend.render.records import Job
from backend.render.tasks import PROXIES

MAX_ZIP_BYTES = 2 << 30
PREVIEWS_PREFIX = "previews/"


@dataclass(frozen=True)
class Archive:
    """Where a person gets the frames: a link (the zip, or the index page), and for big jobs a sync command."""

    link: str | None
    sync_command: str = ""


def outputs_of(store: S3Store, job: Job) -> tuple[list[ObjectInfo], list[ObjectInfo]]:
    """The job's frames and their proxies in the outputs bucket, each in order, from one listing."""
    listed = sorted(store.list_prefix(job.output_bucket, job.output_prefix), key=lambda item: item.key)
    prefix = job.output_prefix + PROXIES
    proxies = [item for item in listed if item.key.startswith(prefix)]
    frames = [item for item in listed if not item.key.startswith(prefix) and not item.key.endswith(".zip")]
    return frames, proxies


def archived_keys(job: Job) -> tuple[str, str]:
    """Where the zip and the index page of a job's frames are kept."""
    folder = f"{PREVIEWS_PREFIX}{job.job_id}/{job.job_id}"
    return f"{folder}_frames.zip", f"{folder}_frames.html"


def archive(store: S3Store, job: Job, frames: list[ObjectInfo], links: Links) -> Archive:
    """The zip of the frames (built once), or past `MAX_ZIP_BYTES` an index page and a sync command."""
    if not frames:
        return Archive(None)
    bucket = job.output_bucket
    key, index = archived_keys(job)
    if sum(item.size for item in frames) > MAX_ZIP_BYTES:
        page = "".join(
            f'<li><a href="{html.escape(links.url(item.key))}">'
            f"{html.escape(item.key.rsplit('/', 1)[-1])}</a></li>\n"
            for item in frames
        )
        title = f"Frames of {html.escape(job.job_id)} (links valid {links.valid_for})"
        body = f"<!doctype html><meta charset=utf-8><title>{title}</title><h1>{title}</h1><ol>\n{page}</ol>\n"
        store.put(bucket, index, body.encode(), content_type="text/html; charset=utf-8")
        sync = f'aws s3 sync s3://{bucket}/{job.output_prefix} ./{job.job_id}/ --exclude "{PROXIES}*"'
        return Archive(links.url(index), sync)
    # A retried reply finds the zip its first try built (looked for by listing: S3 answers HEAD of a missing key
    # with 403 unless ListBucket allows it).
    if not any(item.key == key for item in store.list_prefix(bucket, key)):
        with (
            store.writer(bucket, key, "application/zip") as sink,
            zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as bundle,  # PNG/EXR are compressed
        ):
            for item in frames:
                with bundle.open(item.key.rsplit("/", 1)[-1], "w", force_zip64=True) as entry:
                    for chunk in store.stream(bucket, item.key):
                        entry.write(chunk)
    return Archive(links.url(key))


def fresh_link(store: S3Store, job: Job, links: Links) -> str | None:
    """A new link to an ended job's zip while it is kept (`/render status JOB`); None otherwise. Never to an index
    page: the links baked into it expire with it (the *Outputs* button links each frame afresh)."""
    if not job.status.is_final:
        return None
    key = archived_keys(job)[0]
    kept = store.list_prefix(job.output_bucket, key)
    return links.url(key) if any(item.key == key for item in kept) else None
