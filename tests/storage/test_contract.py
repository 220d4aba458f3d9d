"""The ObjectStore contract. Every backend is added to `store` and must pass all of it:
local disk (with and without O_DIRECT), S3 (moto's server over HTTP) and memory."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from medialib import clock
from medialib.errors import Forbidden, ValidationFailed
from medialib.storage import diskio
from medialib.storage.base import UPLOAD_PATH, ObjectStore, ObjectTooLarge, UploadGrant
from medialib.storage.local import LocalObjectStore
from medialib.storage.memory import MemoryObjectStore
from medialib.storage.s3 import S3ObjectStore
from medialib.storage.signing import SigningKeys
from tests.conftest import new_bucket


@pytest.fixture(params=["local", "local-without-o-direct", "s3", "memory"])
def store(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ObjectStore]:
    if request.param == "memory":
        yield MemoryObjectStore(public_base_url="http://127.0.0.1:9")
        return
    if request.param == "s3":
        endpoint = request.getfixturevalue("s3_endpoint")
        yield S3ObjectStore.from_url(new_bucket(endpoint), public_base_url="http://127.0.0.1:9")
        return
    if request.param == "local-without-o-direct":  # tmpfs and others refuse O_DIRECT
        monkeypatch.setattr(diskio.DirectWriter, "try_open", classmethod(lambda cls, path: None))
    if request.param.startswith("local"):
        yield LocalObjectStore(
            tmp_path / "objects",
            signing_keys=SigningKeys.load_or_create(tmp_path),
            public_base_url="http://127.0.0.1:9",
        )


KEY = "ws_1/med_1/token/original"


def _write(store: ObjectStore, key: str, data: bytes, *, exclusive: bool = False) -> None:
    writer = store.open_writer(
        key, content_type="image/jpeg", max_bytes=10_000, exclusive=exclusive
    )
    for start in range(0, len(data), 7):
        writer.write(data[start : start + 7])
    writer.commit()


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 5000, 4 * 1024 * 1024 + 7, 17 * 1024 * 1024])
def test_written_object_reads_back_with_size_and_checksum(store: ObjectStore, size: int) -> None:
    data = os.urandom(size)
    writer = store.open_writer(KEY, content_type="image/jpeg", max_bytes=size)
    for start in range(0, size, 1_000_003):  # odd batch sizes across block boundaries
        writer.write(data[start : start + 1_000_003])
    writer.commit()
    info = store.stat(KEY)
    assert info is not None and info.size == size
    assert info.sha256 in (None, hashlib.sha256(data).hexdigest())
    assert info.content_type in (None, "image/jpeg")
    assert store.read_head(KEY, 10) == data[:10]
    assert b"".join(store.iter_bytes(KEY, chunk_size=333)) == data
    with store.local_copy(KEY) as path:
        assert path.read_bytes() == data


def test_missing_object_has_no_stat_and_delete_is_idempotent(store: ObjectStore) -> None:
    assert store.stat(KEY) is None
    store.delete(KEY)
    _write(store, KEY, b"abc")
    store.delete(KEY)
    store.delete(KEY)
    assert store.stat(KEY) is None


def test_writer_over_its_cap_raises_and_leaves_nothing(store: ObjectStore) -> None:
    writer = store.open_writer(KEY, content_type="image/jpeg", max_bytes=10)
    writer.write(b"12345")
    with pytest.raises(ObjectTooLarge) as raised:
        writer.write(b"678901")
    assert raised.value.max_bytes == 10
    writer.abort()
    assert store.stat(KEY) is None


def test_aborted_writer_leaves_nothing_visible(store: ObjectStore) -> None:
    writer = store.open_writer(KEY, content_type="image/jpeg", max_bytes=100)
    writer.write(b"partial")
    assert store.stat(KEY) is None
    writer.abort()
    assert store.stat(KEY) is None


def test_exclusive_writer_refuses_to_replace(store: ObjectStore) -> None:
    _write(store, KEY, b"first")
    with pytest.raises(FileExistsError):
        _write(store, KEY, b"second", exclusive=True)
    assert store.read_head(KEY, 100) == b"first"
    _write(store, KEY, b"replaced")  # non-exclusive writes (derived files) may replace
    assert store.read_head(KEY, 100) == b"replaced"


def test_upload_target_names_method_and_exact_content_type(store: ObjectStore) -> None:
    target = store.upload_target(
        UploadGrant(
            key=KEY,
            workspace_id="ws_1",
            content_type="video/mp4",
            max_bytes=123,
            expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
            size=123,
        )
    )
    assert target.method == "PUT" and target.headers == {"Content-Type": "video/mp4"}
    assert target.url.startswith("http")


def test_an_upload_url_always_binds_a_size_cap(store: ObjectStore) -> None:
    """A store that can bind a size only as an exact length wants the size declared."""
    grant = UploadGrant(
        key=KEY,
        workspace_id="ws_1",
        content_type="image/jpeg",
        max_bytes=30_000_000,
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    )
    try:
        target = store.upload_target(grant)
    except ValidationFailed as refused:
        assert refused.details["field"] == "size"
        sized = store.upload_target(dataclasses.replace(grant, size=1234))
        assert "content-length" in sized.url.lower()  # signed into the URL
        return
    assert "max=30000000" in target.url  # a store that signs its own cap


def test_public_url_is_stable_and_names_no_user_input(store: ObjectStore) -> None:
    assert store.public_url(KEY) == store.public_url(KEY)
    assert store.public_url(KEY).endswith(KEY)


@pytest.mark.parametrize(
    ("first", "last"), [(0, 0), (0, 9), (5, 5), (3, 4_500_000), (4_499_999, 4_499_999)]
)
def test_a_range_reads_exactly_its_bytes(store: ObjectStore, first: int, last: int) -> None:
    data = os.urandom(4_500_000)
    writer = store.open_writer(KEY, content_type="video/mp4", max_bytes=len(data))
    writer.write(data)
    writer.commit()
    assert (
        b"".join(store.iter_range(KEY, (first, last), chunk_size=65_536)) == data[first : last + 1]
    )
    assert b"".join(store.iter_range(KEY, None)) == data


def test_reading_a_missing_object_raises_file_not_found(store: ObjectStore) -> None:
    with pytest.raises(FileNotFoundError):
        b"".join(store.iter_range(KEY, (0, 1)))
    with pytest.raises(FileNotFoundError):
        b"".join(store.iter_bytes(KEY))


def test_a_file_path_when_given_holds_the_object(store: ObjectStore) -> None:
    assert store.file_path(KEY) is None
    _write(store, KEY, b"served as it is")
    path = store.file_path(KEY)
    assert path is None or path.read_bytes() == b"served as it is"


def test_a_copy_is_independent_of_its_source(store: ObjectStore) -> None:
    _write(store, KEY, b"shared bytes")
    copy_key = "ws_1/med_2/token/thumbnail-a.jpg"
    store.copy(KEY, copy_key)
    store.delete(KEY)
    assert store.stat(KEY) is None
    assert b"".join(store.iter_bytes(copy_key)) == b"shared bytes"


def test_copying_a_missing_object_says_so_and_makes_nothing(store: ObjectStore) -> None:
    copy_key = "ws_1/med_2/token/thumbnail-b.jpg"
    with pytest.raises(FileNotFoundError):
        store.copy("ws_1/med_1/token/gone.jpg", copy_key)
    assert store.stat(copy_key) is None


def test_upload_urls_are_verified_by_the_store_that_receives_them(store: ObjectStore) -> None:
    now = dt.datetime.now(dt.UTC)
    grant = UploadGrant(
        key=KEY,
        workspace_id="ws_1",
        content_type="image/png",
        max_bytes=99,
        expires_at=(now + dt.timedelta(hours=1)).replace(microsecond=0),
        size=99,
    )
    target = store.upload_target(grant)
    params = dict(parse_qsl(urlsplit(target.url).query))
    if UPLOAD_PATH not in target.url:  # the bucket receives its own uploads
        with pytest.raises(Forbidden):
            store.verify_upload("PUT", params, now=now)
        return
    verified = store.verify_upload("PUT", params, now=now)
    assert (verified.key, verified.max_bytes, verified.content_type) == (KEY, 99, "image/png")
    with pytest.raises(Forbidden):
        store.verify_upload("PUT", {**params, "max": "100"}, now=now)
    with pytest.raises(Forbidden):
        store.verify_upload("PUT", params, now=now + dt.timedelta(hours=2))


def test_every_object_is_listed_with_when_it_was_written(store: ObjectStore) -> None:
    before = clock.timestamp() - 5
    _write(store, KEY, b"one")
    _write(store, "ws_2/med_9/t/thumbnail-x.jpg", b"two")
    listed = dict(store.iter_objects())
    assert set(listed) == {KEY, "ws_2/med_9/t/thumbnail-x.jpg"}  # nothing internal
    assert all(before < written < clock.timestamp() + 5 for written in listed.values())


def test_sweeping_keeps_every_committed_object(store: ObjectStore) -> None:
    _write(store, KEY, b"kept")
    unfinished = store.open_writer("ws_1/med_3/t/original", content_type="x/y", max_bytes=99)
    unfinished.write(b"never committed")
    assert store.sweep(older_than=dt.timedelta(0)) >= 0
    assert isinstance(store.partials.idle(older_than=dt.timedelta(0)), list)
    assert store.read_head(KEY, 10) == b"kept"
    assert store.stat("ws_1/med_3/t/original") is None
    unfinished.abort()


# --- local-disk specifics --------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    ["../escape", "/etc/passwd", "a/../../b", ".tmp/x", ".meta/x", "a//b", "a/./b", "", "a\x00b"],
)
def test_local_store_refuses_keys_that_could_leave_the_root(tmp_path: Path, key: str) -> None:
    store = LocalObjectStore(
        tmp_path / "o",
        signing_keys=SigningKeys.load_or_create(tmp_path),
        public_base_url="http://x",
    )
    assert store.stat(key) is None
    with pytest.raises(ValueError):
        store.open_writer(key, content_type="x/y", max_bytes=10)


def test_local_store_does_not_follow_symlinks(tmp_path: Path) -> None:
    store = LocalObjectStore(
        tmp_path / "o",
        signing_keys=SigningKeys.load_or_create(tmp_path),
        public_base_url="http://x",
    )
    secret = tmp_path / "secret.txt"
    secret.write_text("do not serve")
    link = tmp_path / "o" / "ws_1" / "med_1" / "t" / "original"
    link.parent.mkdir(parents=True)
    link.symlink_to(secret)
    assert store.stat("ws_1/med_1/t/original") is None
    with pytest.raises((OSError, ValueError)):
        store.read_head("ws_1/med_1/t/original", 10)


def test_local_store_distrusts_a_sidecar_that_does_not_match_the_file(tmp_path: Path) -> None:
    store = LocalObjectStore(
        tmp_path / "o",
        signing_keys=SigningKeys.load_or_create(tmp_path),
        public_base_url="http://x",
    )
    _write(store, KEY, b"original bytes")
    assert store.stat(KEY) is not None and store.stat(KEY).sha256 is not None  # type: ignore[union-attr]
    (tmp_path / "o" / KEY).write_bytes(b"changed behind our back")
    info = store.stat(KEY)
    assert info is not None and info.size == 23
    assert info.sha256 is None and info.content_type is None


def test_sweep_removes_only_old_temporary_files(tmp_path: Path) -> None:
    store = LocalObjectStore(
        tmp_path / "o",
        signing_keys=SigningKeys.load_or_create(tmp_path),
        public_base_url="http://x",
    )
    old = tmp_path / "o" / ".tmp" / "upload-old"
    new = tmp_path / "o" / ".tmp" / "upload-new"
    old.write_bytes(b"x")
    new.write_bytes(b"y")
    os.utime(old, (1, 1))
    assert store.sweep(older_than=dt.timedelta(hours=1)) == 1
    assert not old.exists() and new.exists()
