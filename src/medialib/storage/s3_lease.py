"""The lock of one resumable upload on S3: an object created with `If-None-Match: *`
(S3's conditional write), held as a lease renewed while bytes flow, so a killed process
holds an upload for at most its lease. Its age is judged by the store's own clock (the lock
object's `LastModified` against the `Date` the store answers with), never by a machine's.
Breaking a stale lease, renewing and releasing are conditional on the lock's ETag, so a
slow holder never renews or deletes a lock that is no longer its own; it learns that it
lost the upload (`PartialBusy`) instead. Used by s3_partials.py.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import json
import secrets
import time
from typing import Any

from medialib import clock
from medialib.storage.base import PartialBusy

_RENEW_EVERY_SECONDS = 8.0
TAKEN_CODES = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}
MISSING_CODES = {"404", "NoSuchKey", "NotFound", "NoSuchUpload"}


class S3Lease:
    """The lock object of one upload, held by one request until released or expired."""

    def __init__(
        self, client: Any, bucket: str, key: str, upload_id: str, *, lease: dt.timedelta
    ) -> None:
        self._client, self._bucket, self._key = client, bucket, key
        self._upload_id, self._lease = upload_id, lease
        self._renewed = 0.0
        self._etag: str | None = None  # of the lock object as this holder last wrote it

    def take(self) -> None:
        client = self._client
        try:
            self._write(IfNoneMatch="*")
            return
        except client.exceptions.ClientError as exc:
            if error_code(exc) not in TAKEN_CODES:
                raise
        held = self._held_by_other()
        if held is None:
            return  # a stale lease, taken over
        raise PartialBusy(self._upload_id, retry_after=held)

    def renew(self) -> None:
        if time.monotonic() - self._renewed >= _RENEW_EVERY_SECONDS:
            self._conditional_write()

    def release(self) -> None:
        etag, self._etag = self._etag, None
        if etag is None:
            return
        client, bucket = self._client, self._bucket
        if self._lock_etag() != etag:
            return  # taken over meanwhile: the lock is another holder's now
        try:
            client.delete_object(Bucket=bucket, Key=self._key, IfMatch=etag)
        except client.exceptions.ClientError as exc:
            if error_code(exc) in TAKEN_CODES | MISSING_CODES:
                return
            # A store without conditional deletes: the check above is the guard there.
            with contextlib.suppress(client.exceptions.ClientError):
                client.delete_object(Bucket=bucket, Key=self._key)

    def _write(self, **conditions: str) -> None:
        # Each write's bytes are its own (an ETag is the bytes' hash): a lock another
        # holder wrote never has the ETag this one's conditions name.
        body = json.dumps({"holder": secrets.token_hex(8)}).encode()
        answer = self._client.put_object(
            Bucket=self._bucket, Key=self._key, Body=body, **conditions
        )
        self._renewed = time.monotonic()
        self._etag = str(answer["ETag"])

    def _conditional_write(self) -> None:
        """Renew: only while the lock is still this holder's; else the upload was lost."""
        client = self._client
        try:
            self._write(IfMatch=self._etag or '"none"')
        except client.exceptions.ClientError as exc:
            if error_code(exc) not in TAKEN_CODES | MISSING_CODES:
                raise
            self._etag = None
            raise PartialBusy(self._upload_id, retry_after=1) from exc

    def _held_by_other(self) -> int | None:
        """Seconds the current lease has left, by the store's clock; None when it had
        expired and was taken over here (conditionally: only the lock that was read)."""
        client = self._client
        try:
            head = client.head_object(Bucket=self._bucket, Key=self._key)
        except client.exceptions.ClientError as exc:
            if error_code(exc) not in MISSING_CODES:
                raise
            return 1  # released meanwhile: try again at once
        store_now = _store_time(head)
        written = head["LastModified"]
        left = (written + self._lease - store_now).total_seconds()
        if left > 0:
            return max(1, int(left + 0.999))
        try:
            self._write(IfMatch=str(head["ETag"]))  # the stale lock, and no newer one
        except client.exceptions.ClientError as exc:
            if error_code(exc) not in TAKEN_CODES | MISSING_CODES:
                raise
            return 1  # somebody else took it over first
        return None

    def _lock_etag(self) -> str | None:
        client = self._client
        try:
            return str(client.head_object(Bucket=self._bucket, Key=self._key)["ETag"])
        except client.exceptions.ClientError:
            return None


def _store_time(answer: dict[str, Any]) -> dt.datetime:
    """The store's own clock, from the `Date` header of its answer."""
    date = answer.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    if date:
        return email.utils.parsedate_to_datetime(date)
    return clock.utcnow()  # a store that sends no Date (none seen): this machine's clock


def error_code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
