"""Partial objects for resumable (tus) uploads on S3, kept as S3 multipart uploads.

An upload's bytes go straight into a multipart upload of its final key, begun when the
upload is created, so finishing costs no copy. S3 takes parts of at least 5 MiB (but the
last) while a tus PATCH may carry any number of bytes: what an append leaves below a
part's size is kept as a small `tail` object, and the next append starts by reading it
back. The upload's state (its multipart id, the parts that count, the tail's size) is one
small JSON object beside them, rewritten by each commit: that write is the commit point.
Parts an append sent but never committed (a checksum that failed, a body past the
length) are not in the state, so they do not count; the next append sends its own parts
under the same numbers. Every part carries its SHA-256, which S3 checks on arrival and
again when the parts are joined.

Appends are serialised across machines by a lock object, a lease renewed while bytes
flow (s3_lease.py): a second request for the same upload is told it is busy, and for how
long (`PartialBusy.retry_after`).

The layout follows tusd's s3store (an info object, and an object for the incomplete part).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import re
from typing import Any

from medialib import clock
from medialib.storage.base import ObjectInfo, OffsetMismatch, PartialMissing
from medialib.storage.s3_lease import MISSING_CODES, TAKEN_CODES, S3Lease, error_code

PARTIAL_PREFIX = ".partial/"
# S3's smallest part but the last is 5 MiB; 8 MiB parts reach 78 GiB within 10,000 parts.
PART_BYTES = 8 * 1024 * 1024
LOCK_LEASE = dt.timedelta(seconds=30)
_ID_PATTERN = re.compile(r"^[A-Za-z0-9_]{8,64}$")


@dataclasses.dataclass(frozen=True, slots=True)
class _State:
    key: str
    content_type: str
    multipart_id: str
    # Each committed part: {"PartNumber", "ETag", "ChecksumSHA256", "Size"}.
    parts: tuple[dict[str, Any], ...]
    tail: int  # bytes kept in the tail object after the parts
    generation: int  # names the tail object; bumped by every commit

    @property
    def offset(self) -> int:
        return sum(int(part["Size"]) for part in self.parts) + self.tail

    def to_json(self) -> bytes:
        return json.dumps({**dataclasses.asdict(self), "parts": list(self.parts)}).encode()

    @classmethod
    def from_json(cls, data: bytes) -> _State:
        raw = json.loads(data)
        return cls(**{**raw, "parts": tuple(raw["parts"])})


class S3Partials:
    def __init__(self, client: Any, bucket: str, *, lease: dt.timedelta = LOCK_LEASE) -> None:
        self.client = client
        self.bucket = bucket
        self.lease = lease  # how long a holder that stops renewing keeps an upload

    def start(self, upload_id: str, *, key: str, content_type: str) -> None:
        folder = _folder(upload_id)
        started = self.client.create_multipart_upload(
            Bucket=self.bucket, Key=key, ContentType=content_type, ChecksumAlgorithm="SHA256"
        )
        state = _State(key, content_type, started["UploadId"], (), 0, 0)
        self.client.put_object(
            Bucket=self.bucket, Key=folder + "state", Body=state.to_json(), IfNoneMatch="*"
        )

    def offset(self, upload_id: str) -> int:
        return self._state(upload_id)[0].offset

    def append(self, upload_id: str, *, offset: int) -> S3Append:
        self._state(upload_id)  # a missing upload is missing, not busy
        lease = S3Lease(
            self.client, self.bucket, _folder(upload_id) + "lock", upload_id, lease=self.lease
        )
        lease.take()
        try:
            state, etag = self._state(upload_id)  # read again under the lock
            if state.offset != offset:
                raise OffsetMismatch(state.offset)
            tail = (
                self._read(_folder(upload_id) + f"tail.{state.generation}") if state.tail else b""
            )
            if len(tail) != state.tail:
                raise PartialMissing(upload_id)
        except BaseException:
            lease.release()
            raise
        return S3Append(self, upload_id, state, etag, tail, lease)

    def discard(self, upload_id: str) -> None:
        try:
            state, _ = self._state(upload_id)
        except PartialMissing:
            state = None
        if state is not None:
            with contextlib.suppress(self.client.exceptions.ClientError):
                self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=state.key, UploadId=state.multipart_id
                )
        folder = _folder(upload_id)
        listing = self.client.list_objects_v2(Bucket=self.bucket, Prefix=folder)
        for item in listing.get("Contents", []):
            self.client.delete_object(Bucket=self.bucket, Key=item["Key"])

    def idle(self, *, older_than: dt.timedelta) -> list[str]:
        cutoff = clock.utcnow() - older_than
        newest: dict[str, dt.datetime] = {}
        for item in self._listing():
            upload_id = item["Key"][len(PARTIAL_PREFIX) :].split("/", 1)[0]
            newest[upload_id] = max(item["LastModified"], newest.get(upload_id, cutoff))
        return [upload_id for upload_id, written in newest.items() if written <= cutoff]

    def multipart_ids(self) -> set[str]:
        """The multipart uploads that live partials fill (a sweep must leave them)."""
        ids = set()
        for item in self._listing():
            if item["Key"].endswith("/state"):
                with contextlib.suppress(PartialMissing):
                    upload_id = item["Key"][len(PARTIAL_PREFIX) : -len("/state")]
                    ids.add(self._state(upload_id)[0].multipart_id)
        return ids

    def _listing(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=PARTIAL_PREFIX):
            items.extend(page.get("Contents", []))
        return items

    def _state(self, upload_id: str) -> tuple[_State, str]:
        key = _folder(upload_id) + "state"
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.ClientError as exc:
            if error_code(exc) in MISSING_CODES:
                raise PartialMissing(upload_id) from exc
            raise
        return _State.from_json(answer["Body"].read()), answer["ETag"]

    def _read(self, key: str) -> bytes:
        try:
            data: bytes = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except self.client.exceptions.ClientError as exc:
            if error_code(exc) in MISSING_CODES:
                return b""
            raise
        return data


class S3Append:
    """One request's bytes: whole parts go to S3 as they fill, the rest waits in memory
    (under one part) until `commit` keeps it as the tail."""

    def __init__(
        self,
        partials: S3Partials,
        upload_id: str,
        state: _State,
        etag: str,
        tail: bytes,
        lease: S3Lease,
    ) -> None:
        self._partials = partials
        self._upload_id = upload_id
        self._state = state
        self._etag = etag
        self._buffer = bytearray(tail)
        self._new_parts: list[dict[str, Any]] = []
        self._lease = lease
        self._committed = False
        self.start = state.offset
        self.offset = state.offset

    def write(self, chunk: bytes) -> None:
        self._buffer += chunk
        self.offset += len(chunk)
        self._committed = False
        while len(self._buffer) >= PART_BYTES:
            self._send_part(bytes(self._buffer[:PART_BYTES]))
            del self._buffer[:PART_BYTES]
        self._lease.renew()

    def commit(self) -> int:
        """Keep the parts sent and the bytes below a part (as the tail); the new offset."""
        client, bucket = self._partials.client, self._partials.bucket
        folder = _folder(self._upload_id)
        old = self._state
        new = dataclasses.replace(
            old,
            parts=old.parts + tuple(self._new_parts),
            tail=len(self._buffer),
            generation=old.generation + 1,
        )
        if self._buffer:
            client.put_object(
                Bucket=bucket, Key=folder + f"tail.{new.generation}", Body=bytes(self._buffer)
            )
        try:
            answer = client.put_object(
                Bucket=bucket, Key=folder + "state", Body=new.to_json(), IfMatch=self._etag
            )
        except client.exceptions.ClientError as exc:
            if error_code(exc) not in TAKEN_CODES:
                raise
            # Another holder committed first (a lock broken under a live holder).
            raise OffsetMismatch(self._partials.offset(self._upload_id)) from exc
        if old.tail:
            client.delete_object(Bucket=bucket, Key=folder + f"tail.{old.generation}")
        self._state, self._etag = new, answer["ETag"]
        self._new_parts = []
        self._committed = True
        return self.offset

    def finish(self, key: str, *, content_type: str) -> ObjectInfo:
        """Join the committed parts and the tail into the object at `key` (write-once)."""
        assert self._committed and key == self._state.key
        client, bucket = self._partials.client, self._partials.bucket
        state = self._state
        if self._object_exists(key):
            raise FileExistsError(key)
        if not state.parts and not self._buffer:  # an empty file: S3 joins no zero parts
            client.put_object(Bucket=bucket, Key=key, Body=b"", ContentType=content_type)
        else:
            if self._buffer or not state.parts:
                self._send_part(bytes(self._buffer))
            parts = list(state.parts) + self._new_parts
            client.complete_multipart_upload(
                Bucket=bucket,
                Key=key,
                UploadId=state.multipart_id,
                MultipartUpload={"Parts": [_completed(part) for part in parts]},
            )
        self._partials.discard(self._upload_id)
        return ObjectInfo(size=self.offset, sha256=None, content_type=content_type)

    def close(self) -> None:
        """Release the upload; what was written since the last commit does not count."""
        self._lease.release()

    def _object_exists(self, key: str) -> bool:
        client, bucket = self._partials.client, self._partials.bucket
        try:
            client.head_object(Bucket=bucket, Key=key)
        except client.exceptions.ClientError as exc:
            if error_code(exc) in MISSING_CODES:
                return False
            raise
        return True

    def _send_part(self, data: bytes) -> None:
        client, bucket = self._partials.client, self._partials.bucket
        number = len(self._state.parts) + len(self._new_parts) + 1
        checksum = base64.b64encode(hashlib.sha256(data).digest()).decode()
        answer = client.upload_part(
            Bucket=bucket,
            Key=self._state.key,
            UploadId=self._state.multipart_id,
            PartNumber=number,
            Body=data,
            ChecksumSHA256=checksum,
        )
        self._new_parts.append(
            {"PartNumber": number, "ETag": answer["ETag"], "ChecksumSHA256": checksum}
            | {"Size": len(data)}
        )


def _completed(part: dict[str, Any]) -> dict[str, Any]:
    return {key: part[key] for key in ("PartNumber", "ETag", "ChecksumSHA256")}


def _folder(upload_id: str) -> str:
    if not _ID_PATTERN.fullmatch(upload_id):
        raise PartialMissing(upload_id)
    return f"{PARTIAL_PREFIX}{upload_id}/"
