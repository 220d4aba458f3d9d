"""Partial objects (the bytes of resumable uploads): the contract on every store that
keeps them (local disk, on a real filesystem, and memory), then local-disk specifics."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import pytest

from medialib.storage.base import ObjectStore, OffsetMismatch, PartialBusy, PartialMissing
from medialib.storage.local import LocalObjectStore
from medialib.storage.memory import MemoryObjectStore
from medialib.storage.signing import SigningKeys

UPLOAD = "upl_01TESTPARTIAL0000000000000"


@pytest.fixture
def local_store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(
        tmp_path / "o",
        signing_keys=SigningKeys.load_or_create(tmp_path),
        public_base_url="http://x",
    )


@pytest.fixture(params=["local", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "memory":
        return MemoryObjectStore()
    return LocalObjectStore(
        tmp_path / "o",
        signing_keys=SigningKeys.load_or_create(tmp_path),
        public_base_url="http://x",
    )


def test_appends_grow_the_partial_and_finish_makes_the_object(store: ObjectStore) -> None:
    partials = store.partials
    partials.start(UPLOAD)
    data = os.urandom(300_000)
    for start, end in ((0, 100_000), (100_000, 300_000)):
        append = partials.append(UPLOAD, offset=start)
        append.write(data[start:end])
        assert append.commit() == end
        append.close()
        assert partials.offset(UPLOAD) == end
    last = partials.append(UPLOAD, offset=300_000)
    last.commit()
    info = last.finish("ws/med/t/original", content_type="video/mp4")
    last.close()
    assert info.size == 300_000 and info.sha256 == hashlib.sha256(data).hexdigest()
    stored = store.stat("ws/med/t/original")
    assert stored is not None and stored.sha256 == info.sha256
    assert stored.content_type == "video/mp4"
    assert b"".join(store.iter_bytes("ws/med/t/original")) == data
    with pytest.raises(PartialMissing):
        partials.offset(UPLOAD)


def test_the_hash_is_right_when_another_process_appended(local_store: LocalObjectStore) -> None:
    """A fresh store object knows no running hash: finishing re-reads the file."""
    local_store.partials.start(UPLOAD)
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
    store.partials.start(UPLOAD)
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
    assert (
        last.finish("ws/m/t/original", content_type="x/y").sha256
        == hashlib.sha256(b"12345!").hexdigest()
    )
    last.close()


def test_one_append_at_a_time_and_only_at_the_end(store: ObjectStore) -> None:
    store.partials.start(UPLOAD)
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
    local_store.partials.start(UPLOAD)
    local_store.partials.start("upl_01TESTPARTIALOLD0000000000")
    old = local_store.root / ".partial" / "upl_01TESTPARTIALOLD0000000000"
    os.utime(old, (1, 1))
    assert local_store.partials.idle(older_than=dt.timedelta(days=2)) == [old.name]
    assert local_store.partials.offset(UPLOAD) == 0
