"""S3 adapter: scenes in, frames out. ClientErrors become our errors by code."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from backend.aws.base import AwsAdapter, error_code
from backend.errors import ConflictError, NotFoundError

_MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}
# A conditional write refused: the object is there (If-None-Match) or another version (If-Match), or another
# conditional write to the key is under way (S3's 409).
_CONFLICT = {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    etag: str
    size: int


MULTIPART_THRESHOLD = 8 * 1024 * 1024  # boto3's TransferConfig default: above it, upload_file sends parts


class S3Store(AwsAdapter):
    """Reads and writes objects; the client is created on first use, never at import."""

    service = "s3"
    label = "S3"

    def head(self, bucket: str, key: str) -> ObjectInfo:
        """Size and ETag of one object; NotFoundError naming bucket and key if it is not there."""
        try:
            response = self.client.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if error_code(error) in _MISSING:
                raise NotFoundError(f"There is no `{key}` in the bucket `{bucket}`.") from error
            raise self.aws_error(error, f"read `{key}` in `{bucket}`") from error
        return ObjectInfo(key=key, etag=response["ETag"].strip('"'), size=response["ContentLength"])

    def list_prefix(self, bucket: str, prefix: str) -> list[ObjectInfo]:
        """Every object under a prefix (paginated)."""
        objects: list[ObjectInfo] = []
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    objects.append(ObjectInfo(item["Key"], item["ETag"].strip('"'), item["Size"]))
        except ClientError as error:
            raise self.aws_error(error, f"list `{prefix}` in `{bucket}`") from error
        return objects

    def download(self, bucket: str, key: str, path: Path, etag: str | None = None) -> None:
        """Write one object to `path` atomically; with `etag`, only that exact version."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.part")
        extra = {"IfMatch": f'"{etag}"'} if etag else {}
        try:
            response = self.client.get_object(Bucket=bucket, Key=key, **extra)
            with partial.open("wb") as out:
                for chunk in response["Body"].iter_chunks(1 << 20):
                    out.write(chunk)
        except ClientError as error:
            partial.unlink(missing_ok=True)
            code = error_code(error)
            if code in _MISSING:
                raise NotFoundError(f"There is no `{key}` in the bucket `{bucket}`.") from error
            if code == "PreconditionFailed":
                raise NotFoundError(
                    f"`{key}` changed after the job was submitted: submit the job again."
                ) from error
            raise self.aws_error(error, f"download `{key}` from `{bucket}`") from error
        partial.replace(path)

    def presigned_url(self, bucket: str, key: str, expires_s: int = 600) -> str:
        """A URL that downloads one object without AWS credentials for `expires_s` seconds at most: it dies with
        the role session that signed it (hours on Lambda), so studiobot posts its own links (`render.links`)."""
        url: str = self._signer.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=min(expires_s, 7 * 24 * 3600)
        )
        return url

    @cached_property
    def _signer(self) -> Any:
        """A client of the same region, endpoint and credentials that presigns with SigV4 (botocore presigns with
        SigV2 in the regions that still take it unless told otherwise)."""
        meta = self.client.meta
        config = Config(signature_version="s3v4")
        return boto3.client("s3", region_name=meta.region_name, endpoint_url=meta.endpoint_url, config=config)

    def upload(self, path: Path, bucket: str, key: str, content_type: str | None = None) -> None:
        """Upload one local file: one PutObject under the multipart threshold (a frame, a proxy), else in parts."""
        extra = {"ContentType": content_type} if content_type else {}
        try:
            if path.stat().st_size < MULTIPART_THRESHOLD:
                # What upload_file sends for such a file, without its transfer manager's threads and futures,
                # made afresh at every call: a worker uploads two files a frame.
                with path.open("rb") as body:
                    self.client.put_object(Bucket=bucket, Key=key, Body=body, **extra)
                return
            self.client.upload_file(str(path), bucket, key, ExtraArgs=extra or None)
        except ClientError as error:
            raise self.aws_error(error, f"upload `{key}` to `{bucket}`") from error

    def copy(self, bucket: str, source: str, key: str) -> None:
        """Copy an object within the bucket, inside S3: no byte passes through here (multipart past 5 GB)."""
        try:
            self.client.copy({"Bucket": bucket, "Key": source}, bucket, key)
        except ClientError as error:
            if error_code(error) in _MISSING:
                raise NotFoundError(f"There is no `{source}` in the bucket `{bucket}`.") from error
            raise self.aws_error(error, f"copy `{source}` to `{key}` in `{bucket}`") from error

    def delete(self, bucket: str, keys: list[str]) -> None:
        """Delete these objects (a thousand per request); deleting one that is not there is not an error."""
        try:
            for start in range(0, len(keys), 1000):
                batch = [{"Key": key} for key in keys[start : start + 1000]]
                self.client.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        except ClientError as error:
            raise self.aws_error(error, f"delete {len(keys)} objects in `{bucket}`") from error

    def exists(self, bucket: str, key: str) -> bool:
        """Whether the object is there (one HEAD)."""
        try:
            self.head(bucket, key)
        except NotFoundError:
            return False
        return True

    def read(self, bucket: str, key: str) -> tuple[bytes, str]:
        """A small object's bytes and ETag (a manifest); NotFoundError if it is not there."""
        try:
            response = self.client.get_object(Bucket=bucket, Key=key)
            return response["Body"].read(), response["ETag"].strip('"')
        except ClientError as error:
            if error_code(error) in _MISSING:
                raise NotFoundError(f"There is no `{key}` in the bucket `{bucket}`.") from error
            raise self.aws_error(error, f"read `{key}` in `{bucket}`") from error

    def put(
        self,
        bucket: str,
        key: str,
        body: bytes,
        content_type: str = "application/json",
        if_match: str = "",
        only_new: bool = False,
    ) -> str:
        """Write a small object (a manifest); its ETag. With `only_new` it must not exist yet (If-None-Match), with
        `if_match` it must still be that version (If-Match): otherwise ConflictError, and nothing is written."""
        extra = {"IfMatch": f'"{if_match}"'} if if_match else {"IfNoneMatch": "*"} if only_new else {}
        try:
            response = self.client.put_object(
                Bucket=bucket, Key=key, Body=body, ContentType=content_type, **extra
            )
        except ClientError as error:
            if extra and error_code(error) in _CONFLICT | {"NoSuchKey"}:  # If-Match on one deleted meanwhile
                raise ConflictError(
                    f"`{key}` in `{bucket}` was written by someone else meanwhile."
                ) from error
            raise self.aws_error(error, f"write `{key}` to `{bucket}`") from error
        return str(response["ETag"]).strip('"')

    def stream(self, bucket: str, key: str, chunk_bytes: int = 8 << 20) -> Iterator[bytes]:
        """An object's bytes, a chunk at a time, never whole in memory or on disk."""
        try:
            body = self.client.get_object(Bucket=bucket, Key=key)["Body"]
        except ClientError as error:
            if error_code(error) in _MISSING:
                raise NotFoundError(f"There is no `{key}` in the bucket `{bucket}`.") from error
            raise self.aws_error(error, f"read `{key}` in `{bucket}`") from error
        yield from body.iter_chunks(chunk_bytes)

    @contextmanager
    def writer(self, bucket: str, key: str, content_type: str) -> Iterator[MultipartWriter]:
        """A file-like object whose bytes go to S3 in 8 MiB parts (an archive built S3 to S3, no disk)."""
        sink = MultipartWriter(self, bucket, key, content_type)
        try:
            yield sink
        except BaseException:
            sink.abort()
            raise
        sink.finish()


class MultipartWriter:
    """Writable, not seekable (zipfile writes data descriptors then): parts of at least 8 MiB, one object."""

    PART_BYTES = 8 << 20  # S3 wants 5 MiB or more for every part but the last

    def __init__(self, store: S3Store, bucket: str, key: str, content_type: str) -> None:
        self.store, self.bucket, self.key, self.content_type = store, bucket, key, content_type
        self._buffer = bytearray()
        self._parts: list[dict[str, Any]] = []
        self._upload_id = ""

    def write(self, data: bytes) -> int:
        self._buffer += data
        while len(self._buffer) >= self.PART_BYTES:
            self._send(bytes(self._buffer[: self.PART_BYTES]))
            del self._buffer[: self.PART_BYTES]
        return len(data)

    def flush(self) -> None:
        """Nothing to do: parts go out as they fill."""

    def close(self) -> None:
        """Nothing to do: `finish` makes the object once the writer's `with` ends."""

    def _send(self, part: bytes) -> None:
        client = self.store.client
        try:
            if not self._upload_id:
                created = client.create_multipart_upload(
                    Bucket=self.bucket, Key=self.key, ContentType=self.content_type
                )
                self._upload_id = created["UploadId"]
            number = len(self._parts) + 1
            sent = client.upload_part(
                Bucket=self.bucket, Key=self.key, UploadId=self._upload_id, PartNumber=number, Body=part
            )
        except ClientError as error:
            raise self.store.aws_error(error, f"write `{self.key}` to `{self.bucket}`") from error
        self._parts.append({"PartNumber": number, "ETag": sent["ETag"]})

    def finish(self) -> None:
        """Send what is left and make the object (one PUT when it all fitted in one part)."""
        if not self._upload_id:
            self.store.put(self.bucket, self.key, bytes(self._buffer), self.content_type)
            return
        if self._buffer:
            self._send(bytes(self._buffer))
            self._buffer.clear()
        try:
            self.store.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self.key,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": self._parts},
            )
        except ClientError as error:
            raise self.store.aws_error(error, f"write `{self.key}` to `{self.bucket}`") from error

    def abort(self) -> None:
        """Leave no half-made upload behind (they are billed until aborted)."""
        if self._upload_id:
            with suppress(ClientError):  # if this fails too, the bucket's lifecycle rule ends what is left
                self.store.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=self.key, UploadId=self._upload_id
                )
