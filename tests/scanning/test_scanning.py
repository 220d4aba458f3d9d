"""Virus scanning with a real ClamAV daemon (see clamd.py for its one signature): every
way in is scanned, an infected upload never becomes ready and keeps no bytes, and a
scanner that cannot answer holds the upload back (fail closed) until it is back."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from medialib.db import session_scope
from medialib.media.models import Media
from medialib.scanning.clamd import ClamdScanner, ScannerUnavailable, ScanVerdict, _verdict
from tests.conftest import RunningServer, isolated_server
from tests.helpers import error_of, put_bytes, request_upload, wait_settled
from tests.scanning.clamd import EICAR, THREAT, Clamd


@pytest.fixture
def api(scanning_server: RunningServer) -> Iterator[httpx.Client]:
    with scanning_server.client() as client:
        yield client


def _infected(path: Path) -> bytes:
    """A real file of its type with the test signature appended after its end."""
    return path.read_bytes() + EICAR


def _stored_key(server: RunningServer, media_id: str) -> str:
    with session_scope(server.state.session_factory) as session:
        media = session.get(Media, media_id)
        assert media is not None
        return media.storage_key


def _upload(api: httpx.Client, name: str, data: bytes) -> tuple[str, httpx.Response]:
    upload = request_upload(api, filename=name)
    assert put_bytes(upload, data).status_code == 200
    return upload["id"], api.post(f"/v1/media/{upload['id']}/confirm")


def test_a_clean_image_is_ready_and_says_it_was_scanned(api: httpx.Client, files: Path) -> None:
    _, confirm = _upload(api, "photo.jpg", (files / "photo.jpg").read_bytes())
    assert confirm.status_code == 200
    media = confirm.json()
    assert media["status"] == "ready" and media["metadata"]["scan"] == {"status": "clean"}


def test_an_infected_upload_is_refused_with_the_threat_and_its_bytes_removed(
    scanning_server: RunningServer, api: httpx.Client, files: Path
) -> None:
    media_id, confirm = _upload(api, "photo.jpg", _infected(files / "photo.jpg"))
    assert confirm.status_code == 422
    error = error_of(confirm)
    assert error["code"] == "media_rejected_security" and error["threat"] == THREAT
    media = api.get(f"/v1/media/{media_id}").json()
    assert media["status"] == "failed" and media["error"]["threat"] == THREAT
    assert scanning_server.state.store.stat(_stored_key(scanning_server, media_id)) is None
    again = api.post(f"/v1/media/{media_id}/confirm")  # the same answer, nothing rescanned
    assert again.status_code == 422 and error_of(again)["threat"] == THREAT


def test_direct_uploads_imports_and_resumable_uploads_are_scanned_too(
    api: httpx.Client, files: Path
) -> None:
    infected = _infected(files / "doc.pdf")
    direct = api.post("/v1/media", files={"file": ("doc.pdf", infected, "application/pdf")})
    assert direct.status_code == 422 and error_of(direct)["code"] == "media_rejected_security"

    tus = {"Tus-Resumable": "1.0.0"}
    created = api.post(
        "/v1/tus/",
        headers={
            **tus,
            "Upload-Length": str(len(infected)),
            "Upload-Metadata": f"filename {base64.b64encode(b'doc.pdf').decode()}",
        },
    )
    last = api.patch(
        created.headers["Location"],
        content=infected,
        headers={**tus, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"},
    )
    assert last.status_code == 422 and error_of(last)["code"] == "media_rejected_security"
    assert last.headers["Medialib-Media-Status"] == "failed"
    assert api.get("/v1/media", params={"status": "ready"}).json()["pagination"]["total"] == 0


def test_a_scanner_that_cannot_answer_holds_the_upload_until_it_is_back(
    scanning_server: RunningServer, api: httpx.Client, clamd: Clamd, files: Path
) -> None:
    data = (files / "photo.jpg").read_bytes()
    upload = request_upload(api, filename="photo.jpg")
    assert put_bytes(upload, data).status_code == 200
    clamd.stop()
    try:
        refused = api.post(f"/v1/media/{upload['id']}/confirm")
        assert refused.status_code == 503
        assert error_of(refused)["reason"] == "scanner"
        ready = httpx.get(f"{scanning_server.base_url}/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["scanner"] == "down"
        assert api.get(f"/v1/media/{upload['id']}").json()["status"] == "pending_upload"
    finally:
        clamd.start()
    confirmed = api.post(f"/v1/media/{upload['id']}/confirm")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "ready"
    assert httpx.get(f"{scanning_server.base_url}/readyz").json()["checks"]["scanner"] == "ok"


# --- big files: scanned by their processing job --------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def job_scanning_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, clamd: Clamd
) -> Iterator[RunningServer]:
    """Scans nothing during confirm, so every upload is scanned by its job. A database of
    its own: other servers' workers (without a scanner) must not take its jobs."""
    with isolated_server(
        request,
        tmp_path_factory,
        request.param,
        clamd_url=clamd.url,
        scan_inline_max_bytes=0,
        fault_job_delay_seconds=1.0,
    ) as server:
        yield server


def _client(server: RunningServer) -> httpx.Client:
    key = server.new_key()
    return httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60
    )


def test_big_uploads_wait_unserved_for_their_scan_then_turn_ready(
    job_scanning_server: RunningServer, files: Path
) -> None:
    with _client(job_scanning_server) as api:
        media_id, confirm = _upload(api, "photo.jpg", (files / "photo.jpg").read_bytes())
        media: dict[str, Any] = confirm.json()
        assert media["status"] == "processing"  # an image is not ready before its scan
        settled = wait_settled(api, media_id)
        assert settled["status"] == "ready" and settled["metadata"]["scan"]["status"] == "clean"
        assert settled["thumbnail_url"]


def test_a_big_infected_video_is_never_served_and_fails_with_the_threat(
    job_scanning_server: RunningServer, files: Path
) -> None:
    with _client(job_scanning_server) as api:
        media_id, confirm = _upload(api, "clip.mp4", _infected(files / "clip.mp4"))
        assert confirm.status_code == 200
        assert confirm.json()["metadata"]["scan"]["status"] == "pending"
        assert httpx.get(confirm.json()["url"]).status_code == 404  # unscanned: not served
        settled = wait_settled(api, media_id)
        assert settled["status"] == "failed"
        assert settled["error"]["code"] == "media_rejected_security"
        assert settled["error"]["threat"] == THREAT
        key = _stored_key(job_scanning_server, media_id)
        assert job_scanning_server.state.store.stat(key) is None


# --- the client against the daemon, and its answers -----------------------------------------


def test_the_client_streams_files_in_pieces_and_reads_versions(clamd: Clamd) -> None:
    scanner = ClamdScanner(clamd.url)
    scanner.ping()
    assert scanner.version().startswith("ClamAV ")
    clean = [bytes(3 * 1024 * 1024)] * 3  # 9 MiB in 3 MiB pieces, each split for clamd
    assert scanner.scan(clean).clean
    threat = scanner.scan([b"x" * 5000, EICAR[:30], EICAR[30:], b"y" * 5000])
    assert threat == ScanVerdict(threat=THREAT)


def test_a_stream_past_the_daemons_limit_is_incomplete_not_clean(
    tmp_path: Path,
) -> None:
    small = Clamd(tmp_path, stream_max="1M")
    small.start()
    try:
        verdict = ClamdScanner(small.url).scan([bytes(1024 * 1024)] * 3)
    finally:
        small.stop()
    assert verdict.incomplete and not verdict.clean


def test_answers_that_are_not_ok_or_a_threat_fail_closed(tmp_path: Path) -> None:
    assert _verdict("stream: OK").clean
    assert _verdict("stream: Win.Test.EICAR_HDB-1 FOUND").threat == "Win.Test.EICAR_HDB-1"
    assert _verdict("stream: Heuristics.Limits.Exceeded.MaxFileSize FOUND").incomplete
    assert _verdict("INSTREAM size limit exceeded. ERROR").incomplete
    with pytest.raises(ScannerUnavailable):
        _verdict("stream: lstat() failed. ERROR")
    with pytest.raises(ScannerUnavailable):
        ClamdScanner(f"unix://{tmp_path / 'nobody-listens'}").scan([b"x"])
    with pytest.raises(ValueError):
        ClamdScanner("http://127.0.0.1:3310")
