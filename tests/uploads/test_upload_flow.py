"""The signed-upload lifecycle end to end, over real HTTP, as the design's table says."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest

from medialib.client import Client
from tests.conftest import RunningServer
from tests.helpers import error_of, put_bytes, request_upload, upload_file, wait_settled


def test_jpeg_request_put_confirm_is_ready_with_dimensions(api: httpx.Client, files: Path) -> None:
    data = (files / "photo.jpg").read_bytes()
    upload = request_upload(
        api, filename="photo.jpg", size=len(data), tags=["launch"], description="A photo"
    )
    assert upload["id"].startswith("med_") and len(upload["id"]) == 30
    assert upload["method"] == "PUT"
    assert upload["headers"] == {"Content-Type": "image/jpeg"}

    pending = api.get(f"/v1/media/{upload['id']}").json()
    assert pending["status"] == "pending_upload" and pending["url"] is None

    put = put_bytes(upload, data)
    assert put.status_code == 200
    assert put.json()["checksum_sha256"] == hashlib.sha256(data).hexdigest()

    media = api.post(f"/v1/media/{upload['id']}/confirm").json()
    assert media["status"] == "ready"
    assert media["kind"] == "image" and media["content_type"] == "image/jpeg"
    assert (media["width"], media["height"]) == (64, 48)
    assert media["size"] == len(data)
    assert media["checksum_sha256"] == hashlib.sha256(data).hexdigest()
    assert media["tags"] == ["launch"] and media["description"] == "A photo"
    assert media["metadata"]["format"] == "jpeg"

    downloaded = httpx.get(media["url"])
    assert downloaded.status_code == 200 and downloaded.content == data
    stable = ("id", "status", "size", "checksum_sha256", "width", "height", "url", "created_at")
    again = api.get(f"/v1/media/{upload['id']}").json()
    assert {k: again[k] for k in stable} == {k: media[k] for k in stable}


def test_exif_rotated_jpeg_reports_display_dimensions(api: httpx.Client, files: Path) -> None:
    media = upload_file(api, files / "rotated.jpg")
    assert (media["width"], media["height"]) == (48, 64)


def test_png_webp_and_gif_report_alpha_and_animation(api: httpx.Client, files: Path) -> None:
    alpha = upload_file(api, files / "alpha.png")
    assert alpha["metadata"]["has_alpha"] is True and alpha["status"] == "ready"
    webp = upload_file(api, files / "image.webp")
    assert webp["content_type"] == "image/webp" and webp["width"] == 64
    gif = upload_file(api, files / "anim.gif")
    assert gif["kind"] == "gif" and gif["metadata"]["animated"] is True
    assert gif["metadata"]["frames"] == 3 and (gif["width"], gif["height"]) == (32, 32)


def test_mp4_goes_processing_then_ready_with_probe(api: httpx.Client, files: Path) -> None:
    media = upload_file(api, files / "clip.mp4")
    assert media["status"] in ("processing", "ready") and media["kind"] == "video"
    ready = wait_settled(api, media["id"])
    assert ready["status"] == "ready", ready["error"]
    assert (ready["width"], ready["height"]) == (160, 120)
    assert 900 <= ready["duration_ms"] <= 1200
    assert ready["metadata"]["codec"] == "h264"
    assert ready["metadata"]["has_audio"] is True and ready["metadata"]["audio_codec"] == "aac"
    assert ready["metadata"]["fps"] == 25
    assert ready["metadata"]["container"] == "mp4"


def test_other_video_and_audio_containers_end_ready(api: httpx.Client, files: Path) -> None:
    expectations = {
        "clip.mov": ("video", "video/quicktime"),
        "clip.webm": ("video", "video/webm"),
        "tone.m4a": ("audio", "audio/mp4"),
        "tone.wav": ("audio", "audio/wav"),
    }
    for name, (kind, content_type) in expectations.items():
        media = upload_file(api, files / name)
        assert (media["kind"], media["content_type"]) == (kind, content_type), name
        settled = wait_settled(api, media["id"])
        assert settled["status"] == "ready", (name, settled["error"])
        assert settled["duration_ms"] and settled["duration_ms"] > 300, name


def test_documents_are_accepted(api: httpx.Client, files: Path) -> None:
    pdf = upload_file(api, files / "doc.pdf")
    assert pdf["kind"] == "document" and pdf["content_type"] == "application/pdf"
    assert wait_settled(api, pdf["id"])["status"] == "ready"
    docx = upload_file(api, files / "letter.docx")
    assert docx["content_type"].endswith("wordprocessingml.document")


def test_direct_multipart_upload_returns_the_media(api: httpx.Client, files: Path) -> None:
    data = (files / "photo.jpg").read_bytes()
    response = api.post(
        "/v1/media",
        files={"file": ("holiday.jpg", data, "image/jpeg")},
        data={"description": "Beach", "tags": "summer,beach"},
    )
    assert response.status_code == 201, response.text
    media = response.json()
    assert media["status"] == "ready" and media["filename"] == "holiday.jpg"
    assert media["tags"] == ["summer", "beach"] and media["description"] == "Beach"
    assert httpx.get(media["url"]).content == data


def test_direct_upload_of_a_video_is_processed(api: httpx.Client, files: Path) -> None:
    response = api.post(
        "/v1/media", files={"file": ("clip.mp4", (files / "clip.mp4").read_bytes(), "video/mp4")}
    )
    assert response.status_code == 201, response.text
    assert wait_settled(api, response.json()["id"])["status"] == "ready"


def test_python_client_upload_reports_progress(
    server: RunningServer, api_key: str, files: Path
) -> None:
    seen: list[tuple[int, int]] = []
    with Client(server.base_url, api_key) as client:
        media = client.upload(
            files / "clip.mp4",
            tags=["client"],
            progress=lambda sent, total: seen.append((sent, total)),
        )
        size = (files / "clip.mp4").stat().st_size
        assert seen[0] == (0, size) and seen[-1] == (size, size)
        ready = client.wait_until_settled(media["id"])
        assert ready["status"] == "ready" and ready["tags"] == ["client"]
        assert client.list(tag="client")["pagination"]["total"] == 1


def test_patch_changes_tags_description_and_filename(api: httpx.Client, files: Path) -> None:
    media = upload_file(api, files / "photo.jpg", tags=["old"])
    patched = api.patch(
        f"/v1/media/{media['id']}",
        json={"tags": ["new", "New", " other "], "description": "Alt text", "filename": "x/y.jpg"},
    )
    assert patched.status_code == 200
    body = patched.json()
    assert body["tags"] == ["new", "other"]
    assert body["description"] == "Alt text" and body["filename"] == "y.jpg"
    cleared = api.patch(f"/v1/media/{media['id']}", json={"description": None}).json()
    assert cleared["description"] is None and cleared["tags"] == ["new", "other"]


def test_delete_moves_to_trash_and_hides_it(api: httpx.Client, files: Path) -> None:
    media = upload_file(api, files / "photo.jpg")
    deleted = api.delete(f"/v1/media/{media['id']}")
    assert deleted.status_code == 200 and deleted.json() == {"id": media["id"], "deleted": True}
    assert error_of(api.get(f"/v1/media/{media['id']}"))["code"] == "not_found"
    assert api.get(f"/v1/media/{media['id']}").status_code == 404
    assert api.delete(f"/v1/media/{media['id']}").status_code == 404
    assert api.get("/v1/media").json()["pagination"]["total"] == 0


def test_files_answer_conditional_gets_with_304(api: httpx.Client, files: Path) -> None:
    media = upload_file(api, files / "photo.jpg")
    first = httpx.get(media["url"])
    tag = first.headers["etag"]
    assert first.status_code == 200 and tag.startswith('"')
    again = httpx.get(media["url"], headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    assert again.headers["x-content-type-options"] == "nosniff"
    other = httpx.get(media["url"], headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.content == first.content
    # If-Modified-Since when no If-None-Match is sent: 304 from its Last-Modified on.
    since = first.headers["last-modified"]
    assert httpx.get(media["url"], headers={"If-Modified-Since": since}).status_code == 304
    earlier = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert httpx.get(media["url"], headers={"If-Modified-Since": earlier}).status_code == 200
    garbled = httpx.get(media["url"], headers={"If-Modified-Since": "yesterday"})
    assert garbled.status_code == 200  # an unreadable date is ignored


@pytest.mark.parametrize("asked", ["bytes=999999-", "bytes=-0", "bytes=500000-600000"])
def test_a_range_outside_the_file_is_a_json_416(api: httpx.Client, files: Path, asked: str) -> None:
    media = upload_file(api, files / "photo.jpg")
    outside = httpx.get(media["url"], headers={"Range": asked})
    assert outside.status_code == 416 and error_of(outside)["code"] == "range_not_satisfiable"
    assert outside.headers["content-range"] == f"bytes */{media['size']}"
    # Ranges it cannot read are ignored, as the RFC allows: the whole file.
    for ignored in ("bytes=abc", "pages=1-2", "bytes=0-1,4-5"):
        whole = httpx.get(media["url"], headers={"Range": ignored})
        assert whole.status_code == 200 and len(whole.content) == media["size"], ignored
    part = httpx.get(media["url"], headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and len(part.content) == 10


def test_a_media_answer_has_an_etag_and_a_poller_gets_304(api: httpx.Client, files: Path) -> None:
    media = upload_file(api, files / "photo.jpg")
    first = api.get(f"/v1/media/{media['id']}")
    tag = first.headers["etag"]
    same = api.get(f"/v1/media/{media['id']}", headers={"If-None-Match": tag})
    assert same.status_code == 304 and same.content == b"" and same.headers["etag"] == tag
    api.patch(f"/v1/media/{media['id']}", json={"description": "changed"})
    changed = api.get(f"/v1/media/{media['id']}", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag
