"""Partial objects (the bytes of resumable uploads): the contract on every store that
keeps them (local disk on a real filesystem, S3 on LocalStack, memory), then what is
particular to local disk and to S3."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import os
import time
from pathlib import Path
from typing import Any

import pytest

from medialib import clock
from medialib.storage.base import (
    ObjectInfo,
    ObjectStore,
    OffsetMismatch,
    PartialBusy,
    PartialMissing,
)
from medialib.storage.local import LocalObjectStore
from medialib.storage.memory import MemoryObjectStore
from medialib.storage.s3 import S3ObjectStore
from medialib.storage.s3_partials import PART_BYTES, PARTIAL_PREFIX
from medialib.storage.signing import SigningKeys
from tests.conftest import new_bucket

UPLOAD = "upl_01TESTPARTIAL0000000000000"
KEY = "ws/med/t/original"


def _start(store: ObjectStore, upload_id: str = UPLOAD) -> None:
    store.partials.start(upload_id, key=KEY, content_type="video/mp4")


def _hash_is_right(info: ObjectInfo, data: bytes) -> bool:
    """A store that cannot hash as bytes arrive in pieces (S3) says so with None."""
    return info.sha256 in (None, hashlib.sha256(data).hexdigest())


@pytest.fixture
def local_store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(
        tmp_path / "o",
        signing_keys=SigningKeys.load_or_create(tmp_path),
        public_base_url="http://x",
    )


@pytest.fixture(params=["local", "s3", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "memory":
        return MemoryObjectStore()
    if request.param == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        return S3ObjectStore.from_url(new_bucket(endpoint), public_base_url="http://x")
    return LocalObjectStore(
        tmp_path / "o",
        signing_keys=SigningKeys.load_or_create(tmp_path),
        public_base_url="http://x",
    )


def test_appends_grow_the_partial_and_finish_makes_the_object(store: ObjectStore) -> None:
    partials = store.partials
    _start(store)
    data = os.urandom(300_000)
    for start, end in ((0, 100_000), (100_000, 300_000)):
        append = partials.append(UPLOAD, offset=start)
        append.write(data[start:end])
        assert append.commit() == end
        append.close()
        assert partials.offset(UPLOAD) == end
    last = partials.append(UPLOAD, offset=300_000)
    last.commit()
    info = last.finish(KEY, content_type="video/mp4")
    last.close()
    assert info.size == 300_000 and _hash_is_right(info, data)
    stored = store.stat(KEY)
    assert stored is not None and stored.sha256 == info.sha256
    assert stored.content_type == "video/mp4"
    assert b"".join(store.iter_bytes(KEY)) == data
    with pytest.raises(PartialMissing):
        partials.offset(UPLOAD)


def test_the_hash_is_right_when_another_process_appended(local_store: LocalObjectStore) -> None:
    """A fresh store object knows no running hash: finishing re-reads the file."""
    _start(local_store)
    append = local_store.partials.append(UPLOAD, offset=0)
    append.write(b"abc")
    append.commit()
    append.close()
    other = LocalObjectStore(
        local_store.root, signing_keys=local_store.signing_keys, public_base_url="x"
    )
    last = other.partials.append(UPLOAD, offset=3)
    last.write(b"def")
    last.commit()
    info = last.finish("ws/med/t/original", content_type="image/jpeg")
    last.close()
    assert info.sha256 == hashlib.sha256(b"abcdef").hexdigest()


def test_an_append_not_committed_is_cut_back_off(store: ObjectStore) -> None:
    _start(store)
    kept = store.partials.append(UPLOAD, offset=0)
    kept.write(b"12345")
    kept.commit()
    kept.close()
    dropped = store.partials.append(UPLOAD, offset=5)
    dropped.write(b"67890")
    dropped.close()
    assert store.partials.offset(UPLOAD) == 5
    # And the running hash was not fooled by the dropped bytes.
    last = store.partials.append(UPLOAD, offset=5)
    last.write(b"!")
    last.commit()
    assert _hash_is_right(last.finish(KEY, content_type="x/y"), b"12345!")
    last.close()
    assert b"".join(store.iter_bytes(KEY)) == b"12345!"


def test_one_append_at_a_time_and_only_at_the_end(store: ObjectStore) -> None:
    _start(store)
    first = store.partials.append(UPLOAD, offset=0)
    with pytest.raises(PartialBusy):
        store.partials.append(UPLOAD, offset=0)
    first.write(b"abc")
    first.commit()
    first.close()
    with pytest.raises(OffsetMismatch) as mismatch:
        store.partials.append(UPLOAD, offset=1)
    assert mismatch.value.expected == 3


def test_ids_cannot_name_paths_and_keys_cannot_reach_partials(
    local_store: LocalObjectStore,
) -> None:
    for bad in ("../../etc/passwd", "a/b", "", "x" * 100, ".."):
        with pytest.raises(PartialMissing):
            local_store.partials.offset(bad)
        with pytest.raises(PartialMissing):
            local_store.partials.append(bad, offset=0)
    assert local_store.stat(f".partial/{UPLOAD}") is None


def test_only_partials_left_idle_are_listed_as_idle(local_store: LocalObjectStore) -> None:
    _start(local_store)
    _start(local_store, "upl_01TESTPARTIALOLD0000000000")
    old = local_store.root / ".partial" / "upl_01TESTPARTIALOLD0000000000"
    os.utime(old, (1, 1))
    assert local_store.partials.idle(older_than=dt.timedelta(days=2)) == [old.name]
    assert local_store.partials.offset(UPLOAD) == 0


def test_a_discarded_partial_leaves_nothing(store: ObjectStore) -> None:
    _start(store)
    append = store.partials.append(UPLOAD, offset=0)
    append.write(b"x" * 1000)
    append.commit()
    append.close()
    store.partials.discard(UPLOAD)
    with pytest.raises(PartialMissing):
        store.partials.offset(UPLOAD)
    assert list(store.iter_objects()) == [] and store.stat(KEY) is None


def test_an_empty_upload_finishes_as_an_empty_object(store: ObjectStore) -> None:
    _start(store)
    append = store.partials.append(UPLOAD, offset=0)
    append.commit()
    info = append.finish(KEY, content_type="text/plain")
    append.close()
    assert info.size == 0 and b"".join(store.iter_bytes(KEY)) == b""


# S3: whole parts, the tail below a part, the lock object, and what gc sees.

MIB = 1024 * 1024


@pytest.fixture
def s3_store(s3_endpoint: str) -> S3ObjectStore:
    return S3ObjectStore.from_url(new_bucket(s3_endpoint), public_base_url="http://x")


def _multipart_uploads(store: S3ObjectStore) -> list[dict[str, Any]]:
    uploads: list[dict[str, Any]] = store.client.list_multipart_uploads(Bucket=store.bucket).get(
        "Uploads", []
    )
    return uploads


def test_s3_appends_of_any_size_make_parts_and_uncommitted_parts_do_not_count(
    s3_store: S3ObjectStore,
) -> None:
    """Appends cross the part size at odd places; one append sends a whole part and is
    then dropped (its checksum failed, say): its part is replaced by the next append's."""
    data = os.urandom(2 * PART_BYTES + 3 * MIB + 5)
    _start(s3_store)
    cuts = [0, 3 * MIB, PART_BYTES + MIB, PART_BYTES + MIB + 1, len(data)]
    for start, end in itertools.pairwise(cuts):
        dropped = s3_store.partials.append(UPLOAD, offset=start)
        dropped.write(os.urandom(min(PART_BYTES + MIB, len(data) - start)))
        dropped.close()
        assert s3_store.partials.offset(UPLOAD) == start
        append = s3_store.partials.append(UPLOAD, offset=start)
        append.write(data[start:end])
        assert append.commit() == end
        if end == len(data):
            append.finish(KEY, content_type="video/mp4")
        append.close()
    assert b"".join(s3_store.iter_bytes(KEY)) == data
    assert _multipart_uploads(s3_store) == []
    assert [key for key, _ in s3_store.iter_objects()] == [KEY]
    listed = s3_store.client.list_objects_v2(Bucket=s3_store.bucket)["Contents"]
    assert [item["Key"] for item in listed] == [KEY]  # no state, tail or lock left


def test_s3_partials_are_not_objects_gc_may_take_nor_uploads_sweep_aborts(
    s3_store: S3ObjectStore,
) -> None:
    _start(s3_store)
    append = s3_store.partials.append(UPLOAD, offset=0)
    append.write(b"a" * 100)
    append.commit()
    append.close()
    assert list(s3_store.iter_objects()) == []
    assert s3_store.sweep(older_than=dt.timedelta(seconds=-60)) == 0
    assert len(_multipart_uploads(s3_store)) == 1
    assert s3_store.partials.idle(older_than=dt.timedelta(seconds=-60)) == [UPLOAD]
    assert s3_store.partials.idle(older_than=dt.timedelta(hours=1)) == []
    s3_store.partials.discard(UPLOAD)
    assert _multipart_uploads(s3_store) == []


def test_s3_a_lock_left_by_a_killed_process_expires_by_the_stores_clock(
    s3_store: S3ObjectStore,
) -> None:
    """The lease is judged by S3's own clock (the lock's LastModified against S3's Date):
    a server whose clock runs ahead cannot break a live lease; the busy answer says how
    long is left; once a holder stops renewing, the upload is free after the lease."""
    s3_store.partials.lease = dt.timedelta(seconds=2)
    _start(s3_store)
    holder = s3_store.partials.append(UPLOAD, offset=0)
    with clock.shifted(dt.timedelta(minutes=5)), pytest.raises(PartialBusy) as busy:
        s3_store.partials.append(UPLOAD, offset=0)  # from a machine 5 minutes ahead
    assert 1 <= busy.value.retry_after <= 2
    time.sleep(2.5)  # the holder is killed: it renews no more, and its lease runs out
    taken = s3_store.partials.append(UPLOAD, offset=0)
    taken.write(b"after")
    assert taken.commit() == 5
    # The old holder wakes up: it cannot renew (or delete) a lock that is not its own.
    holder._lease._renewed = 0.0  # its next write renews
    with pytest.raises(PartialBusy):
        holder.write(b"late")
    holder.close()
    with pytest.raises(PartialBusy):  # the new holder's lock is still there
        s3_store.partials.append(UPLOAD, offset=5)
    taken.close()
    assert s3_store.partials.offset(UPLOAD) == 5


def test_s3_a_commit_over_a_newer_state_is_refused(s3_store: S3ObjectStore) -> None:
    """Two holders at once (a lock broken while its holder still ran): the second commit
    is refused by S3's conditional write instead of losing the first one's parts."""
    _start(s3_store)
    first = s3_store.partials.append(UPLOAD, offset=0)
    s3_store.client.delete_object(Bucket=s3_store.bucket, Key=f"{PARTIAL_PREFIX}{UPLOAD}/lock")
    second = s3_store.partials.append(UPLOAD, offset=0)
    second.write(b"second")
    second.commit()
    second.close()
    first.write(b"first")
    with pytest.raises(OffsetMismatch):
        first.commit()
    first.close()
    assert s3_store.partials.offset(UPLOAD) == 6
