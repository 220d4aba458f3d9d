"""Broken and hostile input: every answer is the documented JSON error, nothing is kept,
and the server keeps serving."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from sqlalchemy import func, select

from medialib.jobs.models import Job
from medialib.storage.base import UploadGrant
from tests.conftest import RunningServer
from tests.helpers import PeakMemory, error_of, eventually, put_bytes, request_upload, upload_file


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return parts._replace(query=urlencode(query)).geturl()


@pytest.mark.parametrize(
    "changes",
    [
        {"sig": "A" * 43},
        {"max": "999999999999"},
        {"ct": "text/html"},
        {"exp": "4102444800"},
        {"kid": "unknown"},
        {"key": "ws_other/med_x/token/original"},
        {"ws": "ws_someone_else"},
    ],
)
def test_altered_upload_url_answers_403(api: httpx.Client, changes: dict[str, str]) -> None:
    upload = request_upload(api, filename="a.jpg")
    altered = {**upload, "upload_url": _with_query(upload["upload_url"], **changes)}
    headers = {"Content-Type": changes["ct"]} if "ct" in changes else {}
    response = put_bytes(altered, b"\xff\xd8\xff" + b"x" * 100, **headers)
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"
    assert error_of(api.post(f"/v1/media/{upload['id']}/confirm"))["code"] == "upload_missing"


def test_expired_upload_url_answers_403(server: RunningServer, api: httpx.Client) -> None:
    upload = request_upload(api, filename="a.jpg")
    key = parse_qs(urlsplit(upload["upload_url"]).query)["key"][0]
    expired = server.state.store.upload_target(
        UploadGrant(
            key=key,
            workspace_id=key.split("/")[0],
            content_type="image/jpeg",
            max_bytes=1000,
            expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1),
        )
    )
    response = httpx.put(expired.url, content=b"abc", headers=expired.headers)
    assert response.status_code == 403 and error_of(response)["reason"] == "expired"


def test_put_with_another_content_type_answers_403(api: httpx.Client, files: Path) -> None:
    upload = request_upload(api, filename="photo.jpg")
    response = put_bytes(
        upload, (files / "photo.jpg").read_bytes(), **{"Content-Type": "text/html"}
    )
    assert response.status_code == 403 and error_of(response)["reason"] == "content_type"


def test_put_over_declared_size_is_cut_off_and_keeps_nothing(api: httpx.Client) -> None:
    upload = request_upload(api, filename="a.jpg", size=1000)
    response = put_bytes(upload, b"\xff\xd8\xff" + bytes(5000))
    assert response.status_code == 413
    assert error_of(response)["max_bytes"] == 1000
    assert error_of(api.post(f"/v1/media/{upload['id']}/confirm"))["code"] == "upload_missing"


def _busy_jobs(server: RunningServer) -> int:
    with server.state.session_factory() as session:
        busy = session.scalar(select(func.count()).where(Job.status.in_(["queued", "running"])))
    return int(busy or 0)


def _wait_for_idle_jobs(server: RunningServer, timeout: float = 60) -> None:
    eventually(lambda: _busy_jobs(server), lambda busy: busy == 0, timeout=timeout, what="idle")


def _chunks(total: int, chunk: int = 1024 * 1024) -> object:
    block = b"\xff\xd8\xff" + bytes(chunk - 3)
    for _ in range(total // chunk):
        yield block


def test_chunked_put_over_the_kind_cap_stops_at_the_cap_with_flat_memory(
    server: RunningServer, api: httpx.Client
) -> None:
    """No Content-Length to trust: the server counts and cuts off at the 30 MB image cap."""
    upload = request_upload(api, filename="huge.jpg")
    _wait_for_idle_jobs(server)  # earlier tests' previews run in this process too
    with PeakMemory() as peak:
        response = httpx.put(
            upload["upload_url"],
            content=_chunks(120 * 1024 * 1024),
            headers=upload["headers"],
            timeout=60,
        )  # type: ignore[arg-type]
    assert response.status_code == 413
    assert error_of(response)["max_bytes"] == server.settings.kind_cap("image")
    # The server runs in this process: its peak memory must not follow the body size.
    assert peak.growth < 40 * 1024 * 1024
    assert not list((server.settings.resolved_data_dir / "objects" / ".tmp").glob("upload-*"))
    assert error_of(api.post(f"/v1/media/{upload['id']}/confirm"))["code"] == "upload_missing"


def test_declared_size_over_cap_answers_413_before_any_url(api: httpx.Client) -> None:
    response = api.post("/v1/media/upload", json={"filename": "a.jpg", "size": 31_000_000})
    assert response.status_code == 413
    error = error_of(response)
    assert error["code"] == "payload_too_large"
    assert (error["max_bytes"], error["size"]) == (30_000_000, 31_000_000)
    assert api.get("/v1/media").json()["pagination"]["total"] == 0


def test_confirm_over_kind_cap_deletes_object_and_answers_413(
    server: RunningServer, api: httpx.Client, files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The declared kind's cap is re-checked at confirm (e.g. when the store let more in)."""
    data = (files / "anim.gif").read_bytes()
    upload = request_upload(api, filename="anim.gif")
    assert put_bytes(upload, data).status_code == 200
    monkeypatch.setitem(server.settings.kind_caps, "gif", 10)  # the cap changed after the PUT
    response = api.post(f"/v1/media/{upload['id']}/confirm")
    assert response.status_code == 413
    assert (error_of(response)["max_bytes"], error_of(response)["size"]) == (10, len(data))
    media = api.get(f"/v1/media/{upload['id']}").json()
    assert media["status"] == "failed" and media["error"]["code"] == "payload_too_large"
    assert media["url"] is None
    again = api.post(f"/v1/media/{upload['id']}/confirm")
    assert again.status_code == 413 and again.json() == response.json()


def test_confirm_before_put_answers_upload_missing_and_changes_nothing(api: httpx.Client) -> None:
    upload = request_upload(api, filename="a.jpg")
    response = api.post(f"/v1/media/{upload['id']}/confirm")
    assert response.status_code == 400 and error_of(response)["code"] == "upload_missing"
    assert api.get(f"/v1/media/{upload['id']}").json()["status"] == "pending_upload"


def test_confirm_twice_answers_the_same(api: httpx.Client, files: Path) -> None:
    media = upload_file(api, files / "photo.jpg")
    again = api.post(f"/v1/media/{media['id']}/confirm")
    assert again.status_code == 200
    stable = ("id", "status", "size", "checksum_sha256", "width", "height", "url", "created_at")
    assert {k: again.json()[k] for k in stable} == {k: media[k] for k in stable}


def test_fifty_parallel_confirms_make_one_transition(
    server: RunningServer, api: httpx.Client, files: Path
) -> None:
    upload = request_upload(api, filename="clip.mp4")
    assert put_bytes(upload, (files / "clip.mp4").read_bytes()).status_code == 200
    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(
            pool.map(lambda _: api.post(f"/v1/media/{upload['id']}/confirm"), range(50))
        )
    assert {r.status_code for r in responses} == {200}
    first = responses[0].json()
    assert first["status"] == "processing" or first["status"] == "ready"
    assert all(
        r.json()["id"] == upload["id"] and r.json()["size"] == first["size"] for r in responses
    )
    with server.state.session_factory() as session:
        jobs = session.scalars(select(Job).where(Job.name == "media.process_av")).all()
    assert len([job for job in jobs if job.payload["media_id"] == upload["id"]]) == 1


def test_fifty_parallel_confirms_of_a_refused_upload_all_get_the_same_error(
    api: httpx.Client, files: Path
) -> None:
    upload = request_upload(api, filename="photo.jpg")
    assert put_bytes(upload, (files / "page.html").read_bytes()).status_code == 200
    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(
            pool.map(lambda _: api.post(f"/v1/media/{upload['id']}/confirm"), range(50))
        )
    assert {r.status_code for r in responses} == {415}
    assert len({r.text for r in responses}) == 1


def test_unknown_and_other_workspace_ids_answer_the_same_404(
    server: RunningServer, api: httpx.Client, files: Path
) -> None:
    theirs = upload_file(api, files / "photo.jpg")
    with httpx.Client(
        base_url=server.base_url, headers={"X-API-Key": server.new_key()}
    ) as stranger:
        for method, suffix, body in (
            ("GET", "", None),
            ("POST", "/confirm", None),
            ("PATCH", "", {"description": "mine now"}),
            ("DELETE", "", None),
        ):
            other = stranger.request(method, f"/v1/media/{theirs['id']}{suffix}", json=body)
            missing = stranger.request(
                method, f"/v1/media/med_01NOSUCHMEDIA000000000000{suffix}", json=body
            )
            assert other.status_code == missing.status_code == 404, method
            assert other.json() == missing.json()
        assert stranger.get("/v1/media").json()["pagination"]["total"] == 0
    assert api.get(f"/v1/media/{theirs['id']}").json()["description"] is None


def test_missing_wrong_and_malformed_keys_answer_401(anon: httpx.Client) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer mlk_nope_nope"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"X-API-Key": "x" * 5000},
        {"Authorization": "Bearer"},
    ):
        response = anon.get("/v1/media", headers=headers)
        assert response.status_code == 401, headers
        assert error_of(response)["code"] == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"


def test_malformed_and_invalid_bodies_answer_json_errors(api: httpx.Client) -> None:
    headers = {"Content-Type": "application/json"}
    bad_json = api.post("/v1/media/upload", content=b"{not json", headers=headers)
    assert bad_json.status_code == 400 and error_of(bad_json)["code"] == "validation_error"
    for body in (
        {},
        {"filename": ""},
        {"filename": 12},
        {"filename": "a.jpg", "size": -1},
        {"filename": "a.jpg", "kind": "spreadsheet"},
        {"filename": "a.jpg", "unexpected": True},
        {"filename": "a.jpg", "tags": ["x" * 101]},
        {"filename": "noextension"},
        {"filename": "a.jpg", "mode": "resumable"},
        [1, 2, 3],
    ):
        response = api.post("/v1/media/upload", json=body)
        assert response.status_code == 422, body
        assert error_of(response)["code"] == "validation_error"
    assert api.get("/v1/media").json()["pagination"]["total"] == 0


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("../../etc/passwd.jpg", "passwd.jpg"),
        ("..\\..\\windows\\evil.jpg", "evil.jpg"),
        ("nul\x00byte.jpg", "nulbyte.jpg"),
        ("crlf\r\nSet-Cookie: x=1.jpg", "crlfSet-Cookie: x=1.jpg"),
        ("invoice\u202egpj.exe.jpg", "invoicegpj.exe.jpg"),
        ("фото 🌅.jpg", "фото 🌅.jpg"),
    ],
)
def test_hostile_filenames_are_cleaned_and_never_reach_a_path(
    server: RunningServer, api: httpx.Client, files: Path, given: str, shown: str
) -> None:
    media = upload_file(api, files / "photo.jpg", filename=given)
    assert media["filename"] == shown and media["status"] == "ready"
    path = urlsplit(media["url"]).path
    assert "passwd" not in path and "evil" not in path and path.endswith("/original")
    download = httpx.get(media["url"], params={"filename": given})
    assert download.status_code == 200
    disposition = download.headers["content-disposition"]
    assert (
        "\r" not in disposition and "\n" not in disposition and "filename*=UTF-8''" in disposition
    )


@pytest.mark.parametrize(
    ("source", "filename", "code", "status"),
    [
        ("page.html", "photo.jpg", "unsupported_media_type", 415),
        ("playlist.m3u8", "video.mp4", "unsupported_media_type", 415),
        ("alpha.png", "photo.jpg", "content_type_mismatch", 415),
        ("clip.mp4", "photo.jpg", "content_type_mismatch", 415),
        ("truncated.mp4", "photo.jpg", "content_type_mismatch", 415),
        ("bomb.png", "bomb.png", "image_too_large", 422),
    ],
)
def test_bytes_that_are_not_what_the_name_says_are_refused_and_removed(
    server: RunningServer,
    api: httpx.Client,
    files: Path,
    source: str,
    filename: str,
    code: str,
    status: int,
) -> None:
    upload = request_upload(api, filename=filename)
    assert put_bytes(upload, (files / source).read_bytes()).status_code == 200
    response = api.post(f"/v1/media/{upload['id']}/confirm")
    assert response.status_code == status
    assert error_of(response)["code"] == code
    media = api.get(f"/v1/media/{upload['id']}").json()
    assert media["status"] == "failed" and media["error"]["code"] == code and media["url"] is None
    key = parse_qs(urlsplit(upload["upload_url"]).query)["key"][0]
    assert server.state.store.stat(key) is None


def test_declared_type_disagreeing_with_the_bytes_is_a_mismatch(
    api: httpx.Client, files: Path
) -> None:
    upload = request_upload(api, filename="picture", content_type="image/png", kind="image")
    assert put_bytes(upload, (files / "photo.jpg").read_bytes()).status_code == 200
    response = api.post(f"/v1/media/{upload['id']}/confirm")
    error = error_of(response)
    assert (error["code"], error["declared"], error["detected"]) == (
        "content_type_mismatch",
        "image/png",
        "image/jpeg",
    )


def test_truncated_video_ends_failed_with_a_reason(
    server: RunningServer, api: httpx.Client, files: Path
) -> None:
    from tests.helpers import wait_settled

    media = upload_file(api, files / "truncated.mp4")
    settled = wait_settled(api, media["id"])
    assert settled["status"] == "failed"
    assert settled["error"]["code"] == "processing_failed"
    # The decoder's words, without this server's paths (a temp dir, the data dir).
    told = json.dumps(settled["error"])
    assert str(server.settings.resolved_data_dir) not in told and "/tmp/" not in told


@pytest.mark.parametrize("length", [256, 1000])
def test_a_filename_longer_than_file_systems_keep_is_refused(
    api: httpx.Client, length: int
) -> None:
    name = "x" * (length - 4) + ".jpg"
    for answer in (
        api.post("/v1/media/upload", json={"filename": name}),
        api.post("/v1/media/import", json={"url": "https://example.com/a.jpg", "filename": name}),
    ):
        assert answer.status_code == 422 and error_of(answer)["code"] == "validation_error"
    at_most = api.post("/v1/media/upload", json={"filename": "x" * 251 + ".jpg"})
    assert at_most.status_code == 201


def test_direct_upload_hostile_cases(api: httpx.Client, files: Path) -> None:
    not_form = api.post("/v1/media", content=b"raw", headers={"Content-Type": "image/jpeg"})
    assert not_form.status_code == 422 and error_of(not_form)["code"] == "validation_error"
    no_file = api.post("/v1/media", data={"description": "no file"}, files={"other": ("a", b"x")})
    assert no_file.status_code == 422
    html = api.post(
        "/v1/media", files={"file": ("x.jpg", (files / "page.html").read_bytes(), "image/jpeg")}
    )
    assert html.status_code == 415
    bad_kind = api.post(
        "/v1/media",
        files={"file": ("p.jpg", (files / "photo.jpg").read_bytes(), "image/jpeg")},
        data={"kind": "spreadsheet"},
    )
    assert bad_kind.status_code == 422
    assert api.get("/v1/media", params={"status": "ready"}).json()["pagination"]["total"] == 0


def test_direct_upload_over_100_mb_is_cut_off(api: httpx.Client) -> None:
    boundary = "medialibtestboundary"

    def body() -> object:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n'
            "Content-Type: video/mp4\r\n\r\n"
        ).encode()
        yield from _chunks(110 * 1024 * 1024)
        yield f"\r\n--{boundary}--\r\n".encode()

    response = api.post(
        "/v1/media",
        content=body(),  # type: ignore[arg-type]
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 413 and error_of(response)["max_bytes"] == 100_000_000
    assert api.get("/v1/media").json()["pagination"]["total"] == 0


def test_unknown_routes_and_methods_answer_json(anon: httpx.Client) -> None:
    missing = anon.get("/v1/nothing-here")
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    wrong = anon.put("/v1/media")
    assert wrong.status_code == 405 and error_of(wrong)["code"] == "method_not_allowed"


def test_json_bodies_are_capped_and_keyless_ones_never_read(
    server: RunningServer, api: httpx.Client
) -> None:
    cap = server.settings.body_max_bytes
    big = {"filename": "a.jpg", "description": "x" * (cap + 10)}
    declared = api.post("/v1/media/upload", json=big)
    assert declared.status_code == 413 and error_of(declared)["max_bytes"] == cap

    def unannounced() -> Iterator[bytes]:  # chunked: no Content-Length to go by
        yield b'{"filename": "a.jpg", "description": "'
        for _ in range(cap // 65536 + 2):
            yield b"y" * 65536
        yield b'"}'

    streamed = api.post(
        "/v1/media/upload", content=unannounced(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413 and error_of(streamed)["code"] == "payload_too_large"

    def counted() -> Iterator[bytes]:
        for _ in range(3000):  # 200 MB, if anyone read it
            yield bytes(65536)

    with PeakMemory() as peak:
        keyless = httpx.post(
            f"{server.base_url}/v1/posts",
            content=counted(),
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
    assert keyless.status_code == 401 and error_of(keyless)["code"] == "unauthorized"
    assert peak.growth < 20 * 1024 * 1024
    assert api.post("/v1/media/upload", json={"filename": "a.jpg"}).status_code == 201


def test_a_body_on_any_method_is_capped_and_a_request_without_one_passes(
    server: RunningServer, api: httpx.Client
) -> None:
    """Requests without a body (no Content-Length, no Transfer-Encoding, or a length of 0)
    skip the body cap's reading; any other body is capped whatever the method."""
    cap = server.settings.body_max_bytes
    declared = api.request("GET", "/v1/media", content=b"x" * (cap + 10))
    assert declared.status_code == 413 and error_of(declared)["max_bytes"] == cap
    chunked = api.request(
        "DELETE", "/v1/media/med_x", content=iter([b"y" * 65536] * (cap // 65536 + 2))
    )
    assert chunked.status_code == 413 and error_of(chunked)["code"] == "payload_too_large"
    empty = api.post("/v1/media/upload")  # Content-Length: 0: the route says what is missing
    assert empty.status_code == 422 and error_of(empty)["code"] == "validation_error"
    assert api.get("/v1/media").status_code == 200


@pytest.mark.parametrize(
    "name", ["照片.jpg", "фото.jpg", "🎉.jpg", "café ünïcode.jpg", "\u202egpj.exe.jpg", "x" * 600]
)
def test_direct_upload_keeps_any_unicode_filename(
    api: httpx.Client, files: Path, name: str
) -> None:
    data = (files / "photo.jpg").read_bytes()
    created = api.post("/v1/media", files={"file": (name, data, "image/jpeg")})
    assert created.status_code == 201, created.text
    media = created.json()
    assert media["filename"].strip("x") == name.replace("\u202e", "").strip("x")
    served = httpx.get(media["url"], params={"filename": media["filename"]})
    assert (
        served.status_code == 200 and "filename*=UTF-8''" in served.headers["content-disposition"]
    )


@pytest.mark.parametrize(
    "head",
    [
        b'Content-Disposition: form-data; name="file"; filename="' + b"a" * 200_000 + b'.jpg"',
        b"Content-Disposition: form-data; name=file; filename=\xff\xfe\xfd.jpg",
        b"X-" + b"y" * 100_000 + b": z",
        b"no colon in this header line",
    ],
)
def test_a_malformed_or_huge_part_header_is_a_clear_error(
    api: httpx.Client, files: Path, head: bytes
) -> None:
    boundary = "medialibBoundary"
    body = (
        f"--{boundary}\r\n".encode()
        + head
        + b"\r\nContent-Type: image/jpeg\r\n\r\n"
        + (files / "photo.jpg").read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    answer = api.post(
        "/v1/media",
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert answer.status_code in (201, 400, 415, 422), answer.text
    assert answer.status_code < 500 and answer.headers["content-type"].startswith(
        "application/json"
    )
    assert api.get("/healthz").status_code == 200
