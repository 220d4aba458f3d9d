"""The whole upload flow with S3 storage (LocalStack's S3 on loopback, signatures
enforced): presigned PUT straight to the bucket, resumable uploads in multipart parts,
confirm, processing from the bucket, files served back with ranges, refusals removed from
the bucket."""

from __future__ import annotations

import hashlib
import itertools
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest

from medialib.storage.s3_partials import PART_BYTES
from tests import mediafiles
from tests.conftest import RunningServer, isolated_server, new_bucket
from tests.helpers import error_of, put_bytes, request_upload, wait_settled


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def s3_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str
) -> Iterator[RunningServer]:
    """Its own database: other servers' workers (local store) must not take its jobs."""
    with isolated_server(
        request, tmp_path_factory, request.param, storage_url=new_bucket(s3_endpoint)
    ) as server:
        yield server


@pytest.fixture
def api(s3_server: RunningServer) -> Iterator[httpx.Client]:
    with s3_server.client() as client:
        yield client


def _bucket_keys(server: RunningServer, s3_endpoint: str) -> set[str]:
    store = server.state.store
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    listed = client.list_objects_v2(Bucket=store.bucket)  # type: ignore[attr-defined]
    return {item["Key"] for item in listed.get("Contents", [])}


def test_presigned_upload_to_the_bucket_then_confirm_process_and_serve(
    s3_server: RunningServer, api: httpx.Client, files: Path, s3_endpoint: str
) -> None:
    data = (files / "photo.jpg").read_bytes()
    upload = request_upload(api, filename="photo.jpg", size=len(data))
    assert upload["upload_url"].startswith(s3_endpoint) and upload["method"] == "PUT"
    assert "X-Amz-Signature" in upload["upload_url"]
    assert put_bytes(upload, data).status_code == 200
    media = api.post(f"/v1/media/{upload['id']}/confirm").json()
    assert media["status"] == "ready" and media["size"] == len(data)
    settled = wait_settled(api, media["id"])
    assert settled["thumbnail"] and settled["url"].startswith(s3_server.base_url)
    served = httpx.get(settled["url"])
    assert served.status_code == 200 and served.content == data
    assert served.headers["x-content-type-options"] == "nosniff"
    part = httpx.get(settled["url"], headers={"Range": "bytes=2-9"})
    assert part.status_code == 206 and part.content == data[2:10]
    assert part.headers["content-range"] == f"bytes 2-9/{len(data)}"
    assert httpx.get(settled["url"], headers={"Range": "bytes=999999-"}).status_code == 416
    thumbnail = httpx.get(settled["thumbnail_url"])
    assert thumbnail.status_code == 200 and thumbnail.content[:3] == b"\xff\xd8\xff"


def test_a_video_is_processed_from_the_bucket(api: httpx.Client, files: Path) -> None:
    data = (files / "clip.mp4").read_bytes()
    direct = api.post("/v1/media", files={"file": ("clip.mp4", data, "video/mp4")})
    assert direct.status_code == 201, direct.text
    settled = wait_settled(api, direct.json()["id"])
    assert settled["status"] == "ready" and settled["duration_ms"]
    assert settled["thumbnail"]["source"] == "generated"


def test_refused_bytes_are_removed_from_the_bucket(
    s3_server: RunningServer, api: httpx.Client, files: Path, s3_endpoint: str
) -> None:
    page = (files / "page.html").read_bytes()
    upload = request_upload(api, filename="photo.jpg", size=len(page))
    put_bytes(upload, page)
    keys_before = _bucket_keys(s3_server, s3_endpoint)
    refused = api.post(f"/v1/media/{upload['id']}/confirm")
    assert refused.status_code == 415
    removed = keys_before - _bucket_keys(s3_server, s3_endpoint)
    assert len(removed) == 1 and upload["id"] in removed.pop()


def test_an_upload_url_for_the_bucket_needs_a_declared_size(api: httpx.Client) -> None:
    """The bucket can cap a PUT only at an exact Content-Length signed into its URL."""
    unsized = api.post("/v1/media/upload", json={"filename": "photo.jpg"})
    assert unsized.status_code == 422 and error_of(unsized)["field"] == "size"
    sized = request_upload(api, filename="photo.jpg", size=1234)
    assert "content-length" in sized["upload_url"].lower()


def test_a_resumable_upload_fills_the_bucket_in_parts_and_leaves_nothing_else(
    s3_server: RunningServer, api: httpx.Client, s3_endpoint: str, tmp_path: Path
) -> None:
    """A photo of several parts, sent by tus in pieces that cut parts at odd places; the
    server's memory holds at most one part of it."""
    path = mediafiles.noisy_jpeg(tmp_path / "noise.jpg", 3000, 2400)
    data = path.read_bytes()
    assert len(data) > 2 * PART_BYTES
    options = api.options("/v1/tus/")
    assert "creation" in options.headers["Tus-Extension"]
    upload = request_upload(api, filename="noise.jpg", size=len(data), mode="resumable")
    location = upload["upload_url"]
    cuts = [0, 1_000_001, PART_BYTES + 17, 2 * PART_BYTES + 5, len(data)]
    for start, end in itertools.pairwise(cuts):
        answer = api.patch(
            location,
            content=data[start:end],
            headers={
                "Tus-Resumable": "1.0.0",
                "Content-Type": "application/offset+octet-stream",
                "Upload-Offset": str(start),
            },
        )
        assert answer.status_code == 204, answer.text
    media = wait_settled(api, upload["id"])
    assert media["status"] == "ready" and media["size"] == len(data)
    assert media["checksum_sha256"] == hashlib.sha256(data).hexdigest()
    assert httpx.get(media["url"]).content == data
    keys = _bucket_keys(s3_server, s3_endpoint)
    assert not [key for key in keys if key.startswith(".partial/")]
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    bucket = s3_server.state.store.bucket  # type: ignore[attr-defined]
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_readiness_checks_the_bucket(
    s3_server: RunningServer,
    s3_endpoint: str,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    ready = httpx.get(f"{s3_server.base_url}/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["storage"] == "ok"
    missing = f"s3://no-such-bucket-{uuid.uuid4().hex[:8]}?endpoint_url={s3_endpoint}"
    with isolated_server(request, tmp_path_factory, "sqlite", storage_url=missing) as server:
        unready = httpx.get(f"{server.base_url}/readyz")
        assert unready.status_code == 503 and unready.json()["checks"]["storage"] == "down"
        assert httpx.get(f"{server.base_url}/healthz").status_code == 200


def test_the_client_falls_back_to_one_piece(
    s3_server: RunningServer, api: httpx.Client, files: Path
) -> None:
    from medialib.client import Client

    key = api.headers["Authorization"].removeprefix("Bearer ")
    with Client(s3_server.base_url, key) as client:
        media = client.upload(files / "photo.jpg", resumable=True)
    assert media["status"] == "ready"
