"""S3-compatible object storage (AWS S3, MinIO, R2, Ceph) through boto3.

Clients send bytes straight to the bucket with a presigned PUT that signs the key, the
Content-Type and, when the size was declared, the Content-Length; confirm re-checks size,
type and checksum itself whatever the store enforced. Server-side writes (direct uploads,
derived files) stream as a multipart upload in 8 MiB parts, hashed as they go; objects
that fit one part carry their SHA-256 in their metadata, bigger ones are hashed by the
reader. Public URLs stay medialib's own (`/files/<key>`, streamed from the bucket) so the
same access rules apply to every store; put a CDN in front for scale.

Resumable (tus) uploads fill S3 multipart uploads (`s3_partials.py`). Clients send the
bytes of signed uploads to the bucket itself, so `verify_upload` refuses every URL:
medialib receives none.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from medialib import clock
from medialib.errors import Forbidden, ValidationFailed
from medialib.storage.base import (
    FILES_PATH,
    ByteRange,
    ObjectInfo,
    ObjectTooLarge,
    UploadGrant,
    UploadTarget,
)
from medialib.storage.s3_partials import PART_BYTES, PARTIAL_PREFIX, S3Partials

_SHA256_META = "sha256"


class S3ObjectStore:
    def __init__(self, client: Any, bucket: str, *, public_base_url: str) -> None:
        self.client = client
        self.bucket = bucket
        self.public_base_url = public_base_url.rstrip("/")
        self._partials = S3Partials(client, bucket)

    @classmethod
    def from_url(cls, url: str, *, public_base_url: str) -> S3ObjectStore:
        """`s3://bucket?endpoint_url=https://…&region=…`; credentials come from the usual
        AWS sources (environment, config files, instance roles)."""
        import boto3
        from botocore.config import Config

        parts = urlsplit(url)
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        client = boto3.client(
            "s3",
            endpoint_url=options.get("endpoint_url"),
            region_name=options.get("region", "us-east-1"),
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )
        return cls(client, parts.netloc, public_base_url=public_base_url)

    @property
    def partials(self) -> S3Partials:
        return self._partials

    def upload_target(self, grant: UploadGrant) -> UploadTarget:
        # A presigned PUT binds a size only as an exact Content-Length: without one, a body
        # of any size could land in the bucket before confirm refuses it.
        if grant.size is None:
            raise ValidationFailed(
                "Declare the file's `size`: this server's storage binds it into the upload URL.",
                field="size",
            )
        params: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": grant.key,
            "ContentType": grant.content_type,
        }
        headers = {"Content-Type": grant.content_type}
        params["ContentLength"] = grant.size
        seconds = max(1, int((grant.expires_at - _now()).total_seconds()))
        url = self.client.generate_presigned_url(
            "put_object", Params=params, ExpiresIn=seconds, HttpMethod="PUT"
        )
        return UploadTarget(url=url, method="PUT", headers=headers)

    def upload_origins(self) -> tuple[str, ...]:
        # Where boto3 points presigned URLs (endpoint, addressing style, region): ask it.
        url = self.client.generate_presigned_url(
            "put_object", Params={"Bucket": self.bucket, "Key": "origin"}, ExpiresIn=60
        )
        parts = urlsplit(url)
        return (f"{parts.scheme}://{parts.netloc}",)

    def open_writer(
        self, key: str, *, content_type: str, max_bytes: int, exclusive: bool = False
    ) -> S3ObjectWriter:
        return S3ObjectWriter(
            self, key, content_type=content_type, max_bytes=max_bytes, exclusive=exclusive
        )

    def stat(self, key: str) -> ObjectInfo | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.ClientError as exc:
            if _not_found(exc):
                return None
            raise
        metadata = head.get("Metadata") or {}
        return ObjectInfo(
            size=int(head["ContentLength"]),
            sha256=metadata.get(_SHA256_META),
            content_type=head.get("ContentType"),
            modified=head["LastModified"].timestamp() if head.get("LastModified") else None,
        )

    def read_head(self, key: str, length: int) -> bytes:
        if length <= 0:
            return b""
        try:
            answer = self.client.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes=0-{length - 1}"
            )
        except self.client.exceptions.ClientError as exc:
            if _not_found(exc):
                raise FileNotFoundError(key) from exc
            if exc.response.get("Error", {}).get("Code") == "InvalidRange":
                return b""  # an empty object
            raise
        data: bytes = answer["Body"].read()
        return data

    def iter_bytes(self, key: str, *, chunk_size: int = 1024 * 1024) -> Iterator[bytes]:
        yield from self.iter_range(key, None, chunk_size=chunk_size)

    def iter_range(
        self, key: str, byte_range: ByteRange | None, *, chunk_size: int = 1024 * 1024
    ) -> Iterator[bytes]:
        extra = {"Range": f"bytes={byte_range[0]}-{byte_range[1]}"} if byte_range else {}
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=key, **extra)
        except self.client.exceptions.ClientError as exc:
            if _not_found(exc):
                raise FileNotFoundError(key) from exc
            raise
        body = answer["Body"]
        try:
            yield from body.iter_chunks(chunk_size)
        finally:
            body.close()

    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="medialib-s3-") as folder:
            path = Path(folder) / "object"
            with path.open("wb") as handle:
                for chunk in self.iter_bytes(key, chunk_size=PART_BYTES):
                    handle.write(chunk)
            yield path

    def copy(self, source_key: str, target_key: str) -> None:
        try:
            self.client.copy_object(
                Bucket=self.bucket,
                Key=target_key,
                CopySource={"Bucket": self.bucket, "Key": source_key},
                MetadataDirective="COPY",
            )
        except self.client.exceptions.ClientError as exc:
            if _not_found(exc):
                raise FileNotFoundError(source_key) from exc
            raise

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def public_url(self, key: str) -> str:
        return f"{self.public_base_url}{FILES_PATH}/{key}"

    def file_path(self, key: str) -> Path | None:
        return None  # the bytes are in the bucket: streamed through

    def verify_upload(
        self, method: str, params: Mapping[str, str], *, now: dt.datetime
    ) -> UploadGrant:
        raise Forbidden("This server does not accept uploads itself; use the bucket's URL.")

    def iter_objects(self) -> Iterator[tuple[str, float]]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket):
            for item in page.get("Contents", []):
                if not item["Key"].startswith(PARTIAL_PREFIX):
                    yield item["Key"], item["LastModified"].timestamp()

    def sweep(self, *, older_than: dt.timedelta, dry_run: bool = False) -> int:
        """Abort multipart uploads begun longer ago than `older_than` (a writer that never
        committed or aborted: a killed process), but those of live resumable uploads; their
        parts cost storage until then."""
        cutoff = _now() - older_than
        live = self._partials.multipart_ids()  # resumable uploads: expiry ends those
        aborted = 0
        paginator = self.client.get_paginator("list_multipart_uploads")
        for page in paginator.paginate(Bucket=self.bucket):
            for upload in page.get("Uploads", []):
                if upload["Initiated"] >= cutoff or upload["UploadId"] in live:
                    continue
                if not dry_run:
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
                aborted += 1
        return aborted

    def check(self) -> None:
        self.client.head_bucket(Bucket=self.bucket)


class S3ObjectWriter:
    """One part buffered at a time: a single PUT when the object fits one part, else a
    multipart upload; nothing is visible until `commit`, and `abort` removes the parts."""

    def __init__(
        self,
        store: S3ObjectStore,
        key: str,
        *,
        content_type: str,
        max_bytes: int,
        exclusive: bool,
    ) -> None:
        self._store = store
        self._key = key
        self._content_type = content_type
        self._max_bytes = max_bytes
        self._exclusive = exclusive
        self._hash = hashlib.sha256()
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self.size = 0
        self._done = False

    def write(self, chunk: bytes) -> None:
        if self.size + len(chunk) > self._max_bytes:
            self.abort()
            raise ObjectTooLarge(self._max_bytes, self.size + len(chunk))
        self._hash.update(chunk)
        self._buffer += chunk
        self.size += len(chunk)
        while len(self._buffer) >= PART_BYTES:
            self._send_part(bytes(self._buffer[:PART_BYTES]))
            del self._buffer[:PART_BYTES]

    def commit(self) -> ObjectInfo:
        client, bucket = self._store.client, self._store.bucket
        if self._exclusive and self._store.stat(self._key) is not None:
            self.abort()
            raise FileExistsError(self._key)
        sha256 = self._hash.hexdigest()
        if self._upload_id is None:
            client.put_object(
                Bucket=bucket,
                Key=self._key,
                Body=bytes(self._buffer),
                ContentType=self._content_type,
                Metadata={_SHA256_META: sha256},
            )
        else:
            if self._buffer:
                self._send_part(bytes(self._buffer))
            client.complete_multipart_upload(
                Bucket=bucket,
                Key=self._key,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": self._parts},
            )
        self._buffer.clear()
        self._done = True
        stored_hash = sha256 if self._upload_id is None else None
        return ObjectInfo(size=self.size, sha256=stored_hash, content_type=self._content_type)

    def abort(self) -> None:
        if self._done:
            return
        self._done = True
        self._buffer.clear()
        if self._upload_id is not None:
            with contextlib.suppress(Exception):
                self._store.client.abort_multipart_upload(
                    Bucket=self._store.bucket, Key=self._key, UploadId=self._upload_id
                )

    def _send_part(self, data: bytes) -> None:
        client, bucket = self._store.client, self._store.bucket
        if self._upload_id is None:
            started = client.create_multipart_upload(
                Bucket=bucket, Key=self._key, ContentType=self._content_type
            )
            self._upload_id = started["UploadId"]
        number = len(self._parts) + 1
        answer = client.upload_part(
            Bucket=bucket, Key=self._key, UploadId=self._upload_id, PartNumber=number, Body=data
        )
        self._parts.append({"ETag": answer["ETag"], "PartNumber": number})


def _not_found(exc: Any) -> bool:
    code = str(exc.response.get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound")


def _now() -> dt.datetime:
    return clock.utcnow()
