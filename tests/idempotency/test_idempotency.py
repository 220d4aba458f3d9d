"""`Idempotency-Key` on the calls that create media, over real HTTP."""

from __future__ import annotations

import base64
import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx

from medialib import clock
from medialib.db import session_scope
from medialib.gc import collect_garbage
from medialib.idempotency.models import IdempotencyRecord
from tests.conftest import RunningServer
from tests.helpers import error_of, eventually


def _key() -> dict[str, str]:
    return {"Idempotency-Key": f"test-{uuid.uuid4()}"}


def _total(api: httpx.Client) -> int:
    return int(
        api.get("/v1/media", params={"status": "pending_upload"}).json()["pagination"]["total"]
    )


def test_a_repeated_upload_request_replays_the_first_answer(api: httpx.Client) -> None:
    key = _key()
    body = {"filename": "photo.jpg", "size": 1000}
    first = api.post("/v1/media/upload", json=body, headers=key)
    again = api.post("/v1/media/upload", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _total(api) == 1
    # Without the key, the same body is a new upload.
    assert api.post("/v1/media/upload", json=body).json()["id"] != first.json()["id"]


def test_the_same_key_for_another_request_answers_422(api: httpx.Client) -> None:
    key = _key()
    assert api.post("/v1/media/upload", json={"filename": "a.jpg"}, headers=key).status_code == 201
    other = api.post("/v1/media/upload", json={"filename": "b.jpg"}, headers=key)
    assert other.status_code == 422 and error_of(other)["code"] == "idempotency_key_reused"
    elsewhere = api.post("/v1/media/import", json={"url": "https://example.com/a.jpg"}, headers=key)
    assert elsewhere.status_code == 422 and error_of(elsewhere)["code"] == "idempotency_key_reused"
    assert _total(api) == 1


def test_a_retried_direct_upload_makes_one_media(api: httpx.Client, files: Path) -> None:
    """A client picks a new multipart boundary for every attempt: still the same request."""
    key = _key()
    data = (files / "photo.jpg").read_bytes()
    answers = [
        api.post(
            "/v1/media",
            files={"file": ("photo.jpg", data, "image/jpeg")},
            data={"tags": "launch"},
            headers=key,
        )
        for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [201, 201, 201]
    assert len({a.json()["id"] for a in answers}) == 1
    assert api.get("/v1/media").json()["pagination"]["total"] == 1
    changed = api.post(
        "/v1/media", files={"file": ("photo.jpg", data + b"x", "image/jpeg")}, headers=key
    )
    assert changed.status_code == 422


def test_while_the_first_runs_a_second_answers_409(
    server: RunningServer, api: httpx.Client, files: Path
) -> None:
    key = _key()
    data = (files / "photo.jpg").read_bytes()
    boundary = "slowboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    release = threading.Event()

    def slow_body() -> Iterator[bytes]:
        yield head + data[:100]
        release.wait(20)
        yield data[100:] + f"\r\n--{boundary}--\r\n".encode()

    results: list[httpx.Response] = []
    headers = {**key, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    runner = threading.Thread(
        target=lambda: results.append(api.post("/v1/media", content=slow_body(), headers=headers))
    )
    runner.start()
    try:
        _wait_until_claimed(server, key["Idempotency-Key"])
        second = api.post("/v1/media/upload", json={"filename": "x.jpg"}, headers=key)
        assert second.status_code == 409
        assert error_of(second)["code"] == "idempotency_in_progress"
    finally:
        release.set()
        runner.join(20)
    assert results[0].status_code == 201


def _claims(server: RunningServer, key: str) -> int:
    with session_scope(server.state.session_factory) as session:
        return session.query(IdempotencyRecord).filter_by(key=key).count()


def _wait_until_claimed(server: RunningServer, key: str) -> None:
    eventually(lambda: _claims(server, key), timeout=10, interval=0.02, what="the first claim")


def test_a_refusal_is_not_kept_so_a_corrected_retry_runs(api: httpx.Client) -> None:
    key = _key()
    refused = api.post("/v1/media/upload", json={"filename": "a.jpg", "size": -1}, headers=key)
    assert refused.status_code == 422 and "Idempotent-Replayed" not in refused.headers
    fixed = api.post("/v1/media/upload", json={"filename": "a.jpg", "size": 10}, headers=key)
    assert fixed.status_code == 201


def test_keys_belong_to_a_workspace(server: RunningServer, api: httpx.Client) -> None:
    key = _key()
    mine = api.post("/v1/media/upload", json={"filename": "a.jpg"}, headers=key)
    other_key = server.new_key()
    theirs = httpx.post(
        f"{server.base_url}/v1/media/upload",
        json={"filename": "a.jpg"},
        headers={**key, "Authorization": f"Bearer {other_key}"},
    )
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs.headers
    assert theirs.json()["id"] != mine.json()["id"]


def test_bad_keys_and_missing_auth_are_refused(api: httpx.Client, anon: httpx.Client) -> None:
    for bad in ("x" * 256, "tab\there"):
        answer = api.post(
            "/v1/media/upload", json={"filename": "a.jpg"}, headers={"Idempotency-Key": bad}
        )
        assert answer.status_code == 422 and error_of(answer)["field"] == "Idempotency-Key"
    unauthorised = anon.post("/v1/media/upload", json={"filename": "a.jpg"}, headers=_key())
    assert unauthorised.status_code == 401
    assert _total(api) == 0


def test_expired_keys_run_afresh_and_gc_removes_them(
    server: RunningServer, api: httpx.Client
) -> None:
    key = _key()
    first = api.post("/v1/media/upload", json={"filename": "a.jpg"}, headers=key).json()
    a_day = dt.timedelta(hours=24, seconds=1)
    with clock.shifted(a_day):
        again = api.post("/v1/media/upload", json={"filename": "a.jpg"}, headers=key)
    assert again.status_code == 201 and again.json()["id"] != first["id"]
    report = collect_garbage(server.state.runtime, now=clock.utcnow() + 2 * a_day)
    assert report["expired_idempotency_keys"] >= 1
    assert _claims(server, key["Idempotency-Key"]) == 0


def test_the_python_client_passes_the_key(server: RunningServer, api_key: str) -> None:
    from medialib.client import Client

    with Client(server.base_url, api_key) as client:
        first = client.request_upload(filename="a.jpg", idempotency_key="client-1")
        again = client.request_upload(filename="a.jpg", idempotency_key="client-1")
        other = client.request_upload(filename="a.jpg")
    assert first["id"] == again["id"] != other["id"]


def test_a_repeated_tus_creation_replays_the_same_upload(api: httpx.Client) -> None:
    key = _key()
    tus = {"Tus-Resumable": "1.0.0", "Upload-Length": "1000"}
    meta = {"Upload-Metadata": f"filename {base64.b64encode(b'clip.mp4').decode()}"}
    first = api.post("/v1/tus/", headers={**tus, **meta, **key})
    again = api.post("/v1/tus/", headers={**tus, **meta, **key})
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    for header in ("Location", "Medialib-Media-Id", "Upload-Expires", "Tus-Resumable"):
        assert again.headers[header] == first.headers[header]
    listed = api.get("/v1/media", params={"status": "uploading"}).json()
    assert listed["pagination"]["total"] == 1
    other = {"Upload-Metadata": f"filename {base64.b64encode(b'other.mp4').decode()}"}
    reused = api.post("/v1/tus/", headers={**tus, **other, **key})
    assert reused.status_code == 422 and error_of(reused)["code"] == "idempotency_key_reused"
    longer = api.post("/v1/tus/", headers={**tus, **meta, **key, "Upload-Length": "2000"})
    assert longer.status_code == 422


_NOT_REPLAYED = {
    # A new API key is shown once and kept only as a hash: a stored answer to replay would
    # keep the key itself for a day. Retrying its creation makes a second key instead.
    "POST /v1/keys",
    # Sets the cover frame: the same request twice leaves the same cover, nothing more.
    "POST /v1/media/{media_id}/thumbnail",
}


def test_the_api_document_names_the_header_on_exactly_the_creating_calls(
    api: httpx.Client,
) -> None:
    """Every call that creates (201, or 202 for work begun) takes an Idempotency-Key, but
    the one whose answer holds a secret kept nowhere else; no other call takes one."""
    document = api.get("/openapi.json").json()
    with_key, creating = set(), set()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            name = f"{method.upper()} {path}"
            if any(p.get("name") == "Idempotency-Key" for p in operation.get("parameters", [])):
                with_key.add(name)
            if method == "post" and {"201", "202"} & set(operation["responses"]):
                creating.add(name)
    assert with_key == creating - _NOT_REPLAYED
    assert {"POST /v1/webhooks", "POST /v1/accounts", "POST /v1/media/upload"} <= with_key


def test_a_key_on_a_call_that_creates_nothing_is_ignored(api: httpx.Client) -> None:
    first = api.get("/v1/media", headers={"Idempotency-Key": "same"})
    again = api.get("/v1/media", headers={"Idempotency-Key": "same"})
    assert first.status_code == again.status_code == 200
    assert "idempotent-replayed" not in again.headers
