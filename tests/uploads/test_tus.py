"""tus 1.0 resumable uploads over real HTTP: the protocol, breaks and resumes, checksums,
locks, expiry and the hostile cases. Every answer must carry `Tus-Resumable`.

The whole module runs on each store that keeps partials: local disk (on SQLite and on
PostgreSQL) and S3 (LocalStack, on PostgreSQL: the scale-out set-up)."""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import hashlib
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from medialib import clock
from medialib.client import Client
from medialib.db import session_scope
from medialib.gc import collect_garbage
from medialib.storage.s3 import S3ObjectStore
from medialib.storage.s3_partials import PARTIAL_PREFIX
from tests import mediafiles
from tests.conftest import RunningServer, isolated_server, new_bucket, running_server
from tests.helpers import error_of, eventually, wait_settled
from tests.netfaults import cutting_proxy

TUS = {"Tus-Resumable": "1.0.0"}
CHUNK = {**TUS, "Content-Type": "application/offset+octet-stream"}


def metadata(**fields: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in fields.items())


def create(api: httpx.Client, length: int, **fields: str) -> httpx.Response:
    headers = {**TUS, "Upload-Length": str(length), "Upload-Metadata": metadata(**fields)}
    return api.post("/v1/tus/", headers=headers)


def created(api: httpx.Client, length: int, **fields: str) -> str:
    response = create(api, length, **fields)
    assert response.status_code == 201, response.text
    return response.headers["Location"]


def patch(
    api: httpx.Client, location: str, offset: int, body: bytes, **headers: str
) -> httpx.Response:
    return api.patch(
        location, content=body, headers={**CHUNK, "Upload-Offset": str(offset), **headers}
    )


def offset_of(api: httpx.Client, location: str) -> int:
    head = api.head(location, headers=TUS)
    assert head.status_code == 200, head.status_code
    return int(head.headers["Upload-Offset"])


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "s3"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    if request.param == "s3":
        bucket = new_bucket(request.getfixturevalue("s3_endpoint"))
        with isolated_server(request, tmp_path_factory, "postgresql", storage_url=bucket) as s3:
            yield s3
        return
    with running_server(request, tmp_path_factory, request.param) as running:
        yield running


@pytest.fixture(scope="module")
def big_jpeg(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return mediafiles.noisy_jpeg(tmp_path_factory.mktemp("tus") / "noise.jpg").read_bytes()


def test_options_tells_what_the_server_speaks_without_a_key(anon: httpx.Client) -> None:
    response = anon.options("/v1/tus/")
    assert response.status_code == 204
    assert response.headers["Tus-Version"] == "1.0.0"
    assert response.headers["Tus-Resumable"] == "1.0.0"
    extensions = set(response.headers["Tus-Extension"].split(","))
    assert {
        "creation",
        "creation-with-upload",
        "termination",
        "checksum",
        "expiration",
    } <= extensions
    assert int(response.headers["Tus-Max-Size"]) == 5_000_000_000
    assert "sha1" in response.headers["Tus-Checksum-Algorithm"].split(",")


def test_video_in_three_pieces_becomes_a_processed_media(api: httpx.Client, files: Path) -> None:
    data = (files / "clip.mp4").read_bytes()
    response = create(
        api, len(data), filename="clip.mp4", tags="launch,summer", description="A clip"
    )
    assert response.status_code == 201
    location, media_id = response.headers["Location"], response.headers["Medialib-Media-Id"]
    assert location.startswith("/v1/tus/upl_") and media_id.startswith("med_")
    assert (
        response.headers["Tus-Resumable"] == "1.0.0" and "GMT" in response.headers["Upload-Expires"]
    )
    assert api.get(f"/v1/media/{media_id}").json()["status"] == "uploading"

    head = api.head(location, headers=TUS)
    assert head.headers["Upload-Offset"] == "0" and head.headers["Upload-Length"] == str(len(data))
    assert (
        head.headers["Cache-Control"] == "no-store"
        and head.headers["Medialib-Media-Id"] == media_id
    )
    assert head.headers["Upload-Metadata"].startswith("filename ")

    third = len(data) // 3
    for start, end in ((0, third), (third, 2 * third)):
        answer = patch(api, location, start, data[start:end])
        assert answer.status_code == 204, answer.text
        assert answer.headers["Upload-Offset"] == str(end)
        assert offset_of(api, location) == end
    last = patch(api, location, 2 * third, data[2 * third :])
    assert last.status_code == 204, last.text
    assert last.headers["Upload-Offset"] == str(len(data))
    assert last.headers["Medialib-Media-Status"] == "processing"

    media = wait_settled(api, media_id)
    assert media["status"] == "ready" and media["kind"] == "video"
    assert media["checksum_sha256"] == hashlib.sha256(data).hexdigest()
    assert media["tags"] == ["launch", "summer"] and media["description"] == "A clip"
    assert media["thumbnail_url"] and media["duration_ms"]
    assert httpx.get(media["url"]).content == data
    # Finished: HEAD still answers, and a repeated last PATCH changes nothing.
    assert offset_of(api, location) == len(data)
    again = patch(api, location, len(data), b"")
    assert again.status_code == 204 and again.headers["Upload-Offset"] == str(len(data))
    assert again.headers["Medialib-Media-Status"] == "ready"


def test_a_dropped_connection_keeps_what_arrived_and_the_upload_resumes(
    server: RunningServer, api: httpx.Client, api_key: str, big_jpeg: bytes
) -> None:
    location = created(api, len(big_jpeg), filename="noise.jpg")
    sent = 3 * 1024 * 1024
    _send_then_drop(server.base_url, location, api_key, big_jpeg, sent)
    kept = eventually(lambda: offset_of(api, location), timeout=10, what="bytes kept")
    assert 0 < kept <= sent  # whole batches that reached the disk before the break

    # The broken request may still hold the upload a moment (423, as tus clients expect):
    # a client retries, from where HEAD says.
    def resume() -> httpx.Response:
        offset = offset_of(api, location)
        return patch(api, location, offset, big_jpeg[offset:])

    finish = eventually(
        resume,
        lambda answer: answer.status_code not in (409, 423),
        timeout=10,
        interval=0.1,
        what="the upload free again",
    )
    assert finish.status_code == 204, finish.text
    media = api.get(f"/v1/media/{finish.headers['Medialib-Media-Id']}").json()
    assert media["status"] == "ready" and media["size"] == len(big_jpeg)
    assert media["checksum_sha256"] == hashlib.sha256(big_jpeg).hexdigest()


def _send_then_drop(base_url: str, location: str, key: str, data: bytes, sent: int) -> None:
    """A client that dies mid-PATCH: headers for the whole body, part of it, then gone."""
    address = urlsplit(base_url)
    with socket.create_connection((address.hostname, address.port)) as sock:
        head = (
            f"PATCH {location} HTTP/1.1\r\nHost: {address.netloc}\r\n"
            f"Authorization: Bearer {key}\r\nTus-Resumable: 1.0.0\r\n"
            "Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\n"
            f"Content-Length: {len(data)}\r\n\r\n"
        )
        sock.sendall(head.encode() + data[:sent])
        time.sleep(0.5)


def test_a_wrong_offset_answers_409_and_changes_nothing(api: httpx.Client, files: Path) -> None:
    data = (files / "photo.jpg").read_bytes()
    location = created(api, len(data), filename="photo.jpg")
    assert patch(api, location, 0, data[:100]).status_code == 204
    for wrong in (0, 50, 101):
        answer = patch(api, location, wrong, data[wrong:])
        assert answer.status_code == 409
        error = error_of(answer)
        assert error["code"] == "upload_offset_mismatch" and error["offset"] == 100
        assert answer.headers["Tus-Resumable"] == "1.0.0"
    assert offset_of(api, location) == 100


def test_checksums_keep_good_chunks_and_refuse_bad_ones(api: httpx.Client, files: Path) -> None:
    data = (files / "photo.jpg").read_bytes()
    location = created(api, len(data), filename="photo.jpg")
    first = data[:300]
    sha1 = base64.b64encode(hashlib.sha1(first).digest()).decode()
    assert patch(api, location, 0, first, **{"Upload-Checksum": f"sha1 {sha1}"}).status_code == 204

    rest = data[300:]
    wrong = base64.b64encode(hashlib.sha256(b"something else").digest()).decode()
    refused = patch(api, location, 300, rest, **{"Upload-Checksum": f"sha256 {wrong}"})
    assert refused.status_code == 460 and error_of(refused)["code"] == "checksum_mismatch"
    assert offset_of(api, location) == 300

    for bad in ("crc32 AAAA", "sha1 not-base64!", "sha256 " + sha1):
        answer = patch(api, location, 300, rest, **{"Upload-Checksum": bad})
        assert answer.status_code == 400, bad
        assert error_of(answer)["field"] == "Upload-Checksum"
    right = base64.b64encode(hashlib.md5(rest).digest()).decode()
    done = patch(api, location, 300, rest, **{"Upload-Checksum": f"md5 {right}"})
    assert done.status_code == 204 and done.headers["Medialib-Media-Status"] == "ready"


def test_bytes_past_upload_length_answer_413_and_none_are_kept(
    api: httpx.Client, files: Path
) -> None:
    data = (files / "photo.jpg").read_bytes()
    location = created(api, len(data), filename="photo.jpg")
    assert patch(api, location, 0, data[:10]).status_code == 204
    answer = patch(api, location, 10, data[10:] + b"\0" * 5000)
    assert answer.status_code == 413 and error_of(answer)["code"] == "payload_too_large"
    assert offset_of(api, location) == 10


def test_creation_with_upload_sends_a_whole_image_in_one_request(
    api: httpx.Client, files: Path
) -> None:
    data = (files / "photo.jpg").read_bytes()
    headers = {
        **CHUNK,
        "Upload-Length": str(len(data)),
        "Upload-Metadata": metadata(filename="photo.jpg"),
    }
    response = api.post("/v1/tus", headers=headers, content=data)
    assert response.status_code == 201, response.text
    assert response.headers["Upload-Offset"] == str(len(data))
    assert response.headers["Medialib-Media-Status"] == "ready"
    media = api.get(f"/v1/media/{response.headers['Medialib-Media-Id']}").json()
    assert (media["width"], media["height"]) == (64, 48)


def test_a_second_patch_while_one_runs_is_told_the_upload_is_busy(
    server: RunningServer, api: httpx.Client, big_jpeg: bytes
) -> None:
    location = created(api, len(big_jpeg), filename="noise.jpg")
    release = threading.Event()

    def slow_body() -> Iterator[bytes]:
        yield big_jpeg[:1000]
        release.wait(20)
        yield big_jpeg[1000:2000]

    results: list[httpx.Response] = []
    runner = threading.Thread(
        target=lambda: results.append(
            api.patch(location, content=slow_body(), headers={**CHUNK, "Upload-Offset": "0"})
        )
    )
    runner.start()
    try:
        _wait_until_locked(server, location.rsplit("/", 1)[1])
        busy = patch(api, location, 0, big_jpeg[:10])
        assert busy.status_code == 423 and error_of(busy)["code"] == "upload_locked"
        assert int(busy.headers["Retry-After"]) >= 1
    finally:
        release.set()
        runner.join(20)
    assert results[0].status_code == 204 and results[0].headers["Upload-Offset"] == "2000"


def _wait_until_locked(server: RunningServer, upload_id: str) -> None:
    """Watch the lock without touching it: /proc/locks for the local partial's file, the
    lock object on S3."""
    store = server.state.store
    if isinstance(store, S3ObjectStore):
        lock_key = f"{PARTIAL_PREFIX}{upload_id}/lock"

        def held() -> bool:
            return store.stat(lock_key) is not None
    else:
        inode = (store.root / ".partial" / upload_id).stat().st_ino  # type: ignore[attr-defined]

        def held() -> bool:
            return f":{inode} " in Path("/proc/locks").read_text()

    eventually(
        held,
        timeout=10,
        interval=0.02,
        what="the first PATCH taking the upload's lock",
    )


def test_termination_removes_the_bytes_and_the_media(api: httpx.Client, files: Path) -> None:
    data = (files / "clip.mp4").read_bytes()
    response = create(api, len(data), filename="clip.mp4")
    location, media_id = response.headers["Location"], response.headers["Medialib-Media-Id"]
    assert patch(api, location, 0, data[:500]).status_code == 204
    ended = api.delete(location, headers=TUS)
    assert ended.status_code == 204 and ended.headers["Medialib-Media-Id"] == media_id
    assert api.head(location, headers=TUS).status_code == 404
    assert patch(api, location, 500, data[500:]).status_code == 404
    assert api.get(f"/v1/media/{media_id}").status_code == 404


def test_a_finished_upload_is_not_terminated(api: httpx.Client, files: Path) -> None:
    data = (files / "photo.jpg").read_bytes()
    location = created(api, len(data), filename="photo.jpg")
    assert patch(api, location, 0, data).status_code == 204
    refused = api.delete(location, headers=TUS)
    assert refused.status_code == 409 and error_of(refused)["code"] == "invalid_state"


def test_an_expired_upload_answers_410_and_gc_removes_it(
    server: RunningServer, api: httpx.Client, files: Path
) -> None:
    data = (files / "clip.mp4").read_bytes()
    response = create(api, len(data), filename="clip.mp4")
    location, media_id = response.headers["Location"], response.headers["Medialib-Media-Id"]
    assert patch(api, location, 0, data[:500]).status_code == 204
    upload_id = location.rsplit("/", 1)[1]
    idle = dt.timedelta(seconds=server.settings.resumable_ttl_seconds + 1)
    with clock.shifted(idle):
        for answer in (api.head(location, headers=TUS), patch(api, location, 500, data[500:])):
            assert answer.status_code == 410
        assert error_of(patch(api, location, 500, data[500:]))["code"] == "upload_expired"
    removed = collect_garbage(server.state.runtime, now=clock.utcnow() + idle)
    assert removed["expired_resumable_uploads"] >= 1
    assert api.head(location, headers=TUS).status_code == 404
    assert api.get(f"/v1/media/{media_id}").status_code == 404
    with pytest.raises(Exception, match=upload_id):
        server.state.store.partials.offset(upload_id)


def test_bytes_arriving_push_the_expiry_back(
    server: RunningServer, api: httpx.Client, files: Path
) -> None:
    data = (files / "clip.mp4").read_bytes()
    location = created(api, len(data), filename="clip.mp4")
    ttl = dt.timedelta(seconds=server.settings.resumable_ttl_seconds)
    with clock.shifted(ttl - dt.timedelta(minutes=10)):  # ten minutes of life left
        answer = patch(api, location, 0, data[:100])
        assert answer.status_code == 204
        expires = email.utils.parsedate_to_datetime(answer.headers["Upload-Expires"])
        assert expires > clock.utcnow() + ttl - dt.timedelta(minutes=1)
        head = api.head(location, headers=TUS)
    assert email.utils.parsedate_to_datetime(head.headers["Upload-Expires"]) == expires


def test_refused_bytes_answer_the_confirm_error_on_the_last_patch(
    api: httpx.Client, files: Path
) -> None:
    data = (files / "page.html").read_bytes()
    response = create(api, len(data), filename="page.jpg")
    answer = patch(api, response.headers["Location"], 0, data)
    assert answer.status_code == 415, answer.text
    assert error_of(answer)["code"] in ("unsupported_media_type", "content_type_mismatch")
    assert answer.headers["Upload-Offset"] == str(len(data))
    assert answer.headers["Medialib-Media-Status"] == "failed"
    media = api.get(f"/v1/media/{response.headers['Medialib-Media-Id']}").json()
    assert media["status"] == "failed"


def test_a_confirm_lost_after_the_last_byte_is_made_by_the_next_patch(
    server: RunningServer, api: httpx.Client, files: Path
) -> None:
    """As if the process died between storing the object and confirming it."""
    data = (files / "photo.jpg").read_bytes()
    response = create(api, len(data), filename="photo.jpg")
    location, media_id = response.headers["Location"], response.headers["Medialib-Media-Id"]
    upload_id = location.rsplit("/", 1)[1]
    storage_key = api.get(f"/v1/media/{media_id}").json()
    with session_scope(server.state.session_factory) as session:
        from medialib.media.models import Media

        media = session.get(Media, media_id)
        assert media is not None
        storage_key = media.storage_key
    append = server.state.store.partials.append(upload_id, offset=0)
    append.write(data)
    append.commit()
    append.finish(storage_key, content_type="image/jpeg")
    append.close()

    assert offset_of(api, location) == len(data)
    assert api.get(f"/v1/media/{media_id}").json()["status"] == "uploading"
    answer = patch(api, location, len(data), b"")
    assert answer.status_code == 204 and answer.headers["Medialib-Media-Status"] == "ready"


def test_resumable_mode_of_the_upload_request_hands_out_a_tus_url(
    api: httpx.Client, files: Path
) -> None:
    data = (files / "tone.m4a").read_bytes()
    upload = api.post(
        "/v1/media/upload", json={"filename": "tone.m4a", "size": len(data), "mode": "resumable"}
    ).json()
    assert upload["mode"] == "resumable" and upload["method"] == "PATCH"
    assert "/v1/tus/upl_" in upload["upload_url"]
    headers = {**upload["headers"], "Upload-Offset": "0"}
    answer = api.patch(upload["upload_url"], content=data, headers=headers)
    assert answer.status_code == 204 and answer.headers["Medialib-Media-Id"] == upload["id"]
    assert wait_settled(api, upload["id"])["status"] == "ready"

    no_size = api.post("/v1/media/upload", json={"filename": "a.mp4", "mode": "resumable"})
    assert no_size.status_code == 422 and error_of(no_size)["field"] == "size"


# --- hostile and malformed -----------------------------------------------------------------


def test_requests_without_the_protocol_version_answer_412(api: httpx.Client) -> None:
    answer = api.post("/v1/tus/", headers={"Upload-Length": "10"})
    assert answer.status_code == 412 and answer.headers["Tus-Version"] == "1.0.0"
    assert error_of(answer)["code"] == "tus_version_unsupported"
    wrong = api.post("/v1/tus/", headers={"Tus-Resumable": "0.2.2", "Upload-Length": "10"})
    assert wrong.status_code == 412


def _named(filename: str) -> dict[str, str]:
    return {"Upload-Metadata": metadata(filename=filename)}


def test_creation_refuses_bad_lengths_and_metadata(api: httpx.Client) -> None:
    cases = {
        "no length": ({}, 400),
        "negative": ({"Upload-Length": "-1"}, 400),
        "not a number": ({"Upload-Length": "ten"}, 400),
        "huge": ({"Upload-Length": "9" * 30}, 400),
        "deferred": ({"Upload-Defer-Length": "1"}, 422),
        "partial (concatenation)": (
            {"Upload-Length": "10", "Upload-Concat": "partial", **_named("a.jpg")},
            422,
        ),
        "final (concatenation)": (
            {"Upload-Concat": "final;/v1/tus/upl_a /v1/tus/upl_b", **_named("a.jpg")},
            422,
        ),
        "over the image cap": (
            {"Upload-Length": "31000000", "Upload-Metadata": metadata(filename="a.jpg")},
            413,
        ),
        "no filename": ({"Upload-Length": "10", "Upload-Metadata": metadata(kind="image")}, 422),
        "not base64": ({"Upload-Length": "10", "Upload-Metadata": "filename ***"}, 422),
        "bad key": ({"Upload-Length": "10", "Upload-Metadata": "file,name YQ=="}, 422),
        "unknown kind": (
            {"Upload-Length": "10", "Upload-Metadata": metadata(filename="a.jpg", kind="x")},
            422,
        ),
        "no kind to infer": (
            {"Upload-Length": "10", "Upload-Metadata": metadata(filename="a")},
            422,
        ),
        "metadata too long": (
            {"Upload-Length": "10", "Upload-Metadata": metadata(filename="a" * 20000)},
            422,
        ),
    }
    before = api.get("/v1/media", params={"status": "uploading"}).json()["pagination"]["total"]
    for name, (headers, status) in cases.items():
        answer = api.post("/v1/tus/", headers={**TUS, **headers})
        assert answer.status_code == status, (name, answer.text)
        error_of(answer)
        assert answer.headers["Tus-Resumable"] == "1.0.0"
    after = api.get("/v1/media", params={"status": "uploading"}).json()["pagination"]["total"]
    assert after == before  # nothing half made


def test_patch_refuses_wrong_types_and_missing_offsets(api: httpx.Client, files: Path) -> None:
    location = created(api, 100, filename="photo.jpg")
    plain = api.patch(location, content=b"x", headers={**TUS, "Upload-Offset": "0"})
    assert plain.status_code == 415
    missing = api.patch(location, content=b"x", headers=CHUNK)
    assert missing.status_code == 400 and error_of(missing)["field"] == "upload-offset"
    assert offset_of(api, location) == 0


def test_keys_and_workspaces_are_checked_on_every_call(
    server: RunningServer, api: httpx.Client, anon: httpx.Client, files: Path
) -> None:
    location = created(api, 100, filename="photo.jpg")
    assert anon.post("/v1/tus/", headers={**TUS, "Upload-Length": "1"}).status_code == 401
    assert anon.head(location, headers=TUS).status_code == 401
    other = {"Authorization": f"Bearer {server.new_key()}"}
    assert anon.head(location, headers={**TUS, **other}).status_code == 404
    stolen = anon.patch(location, content=b"x", headers={**CHUNK, **other, "Upload-Offset": "0"})
    assert stolen.status_code == 404 and error_of(stolen)["code"] == "not_found"
    assert anon.delete(location, headers={**TUS, **other}).status_code == 404
    for path in ("/v1/tus/..%2F..%2Fetc", "/v1/tus/upl_missing", "/v1/tus/a"):
        assert api.head(path, headers=TUS).status_code == 404
        assert api.delete(path, headers=TUS).status_code == 404
    assert offset_of(api, location) == 0


def test_the_python_client_resumes_through_a_broken_connection(
    server: RunningServer, api_key: str, big_jpeg: bytes, tmp_path: Path
) -> None:
    path = tmp_path / "noise.jpg"
    path.write_bytes(big_jpeg)
    with cutting_proxy(urlsplit(server.base_url).port or 0, cut_after=2 * 1024 * 1024) as port:
        proxied = f"http://127.0.0.1:{port}"
        with Client(proxied, api_key) as client:
            upload = client.request_upload(
                filename="noise.jpg", size=len(big_jpeg), mode="resumable"
            )
            upload["upload_url"] = upload["upload_url"].replace(server.base_url, proxied)
            sent: list[int] = []
            media = client.send_resumable(upload, path, progress=lambda done, _: sent.append(done))
    assert media["status"] == "ready" and media["size"] == len(big_jpeg)
    assert media["checksum_sha256"] == hashlib.sha256(big_jpeg).hexdigest()
    # It resumed: progress went back to what the server had kept, then on to the end.
    assert any(later < earlier for earlier, later in itertools.pairwise(sent))
    assert sent[-1] == len(big_jpeg)


def test_the_python_client_chooses_resumable_for_large_files(
    server: RunningServer, api: httpx.Client, api_key: str, files: Path
) -> None:
    with Client(server.base_url, api_key) as client:
        media = client.upload(files / "clip.mp4", resumable=True)
    assert media["status"] in ("processing", "ready")
    assert wait_settled(api, media["id"])["status"] == "ready"
