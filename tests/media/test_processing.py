"""From confirm to `ready` (or `failed` with a reason) for every kind, with previews that
look right: upright, right aspect, no metadata."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import pyvips
from sqlalchemy import select

from medialib.jobs.models import Job
from medialib.jobs.names import JobName
from medialib.media.models import Media
from tests import mediafiles
from tests.conftest import RunningServer
from tests.helpers import (
    error_of,
    eventually,
    get_media,
    upload_file,
    wait_settled,
    wait_variants,
)


def _ready(api: httpx.Client, path: Path, **fields: Any) -> dict[str, Any]:
    media = upload_file(api, path, **fields)
    settled = _settled_with_preview(api, media["id"])
    assert settled["status"] == "ready", settled["error"]
    return settled


def _settled_with_preview(api: httpx.Client, media_id: str) -> dict[str, Any]:
    """Wait for the status to settle and, for ready images, for the preview to be made."""
    return eventually(
        lambda: get_media(api, media_id),
        lambda media: (
            media["status"] == "failed"
            or (
                media["status"] == "ready"
                and media["thumbnail"]
                and media["thumbnail"]["source"] != "original"
            )
        ),
        what=f"{media_id} settled with its preview",
    )


def _image(url: str) -> pyvips.Image:
    response = httpx.get(url)
    assert response.status_code == 200
    return pyvips.Image.new_from_buffer(response.content, "")


def test_jpeg_preview_is_upright_and_carries_no_gps(api: httpx.Client, files: Path) -> None:
    source_fields = pyvips.Image.new_from_file(str(files / "gps.jpg")).get_fields()
    assert "exif-ifd3-GPSLatitude" in source_fields  # the original does carry GPS
    media = _ready(api, files / "gps.jpg")
    assert (media["width"], media["height"]) == (48, 64)  # orientation 6: portrait
    thumbnail = media["thumbnail"]
    assert thumbnail["source"] == "generated" and (thumbnail["width"], thumbnail["height"]) == (
        48,
        64,
    )
    preview = _image(thumbnail["url"])
    assert (preview.width, preview.height) == (48, 64)
    assert not [f for f in preview.get_fields() if f.startswith(("exif", "xmp", "orientation"))]


def test_large_photo_preview_fits_512_and_keeps_aspect(api: httpx.Client, tmp_path: Path) -> None:
    media = _ready(api, mediafiles.jpeg(tmp_path / "wide.jpg", 2000, 1000))
    assert (media["thumbnail"]["width"], media["thumbnail"]["height"]) == (512, 256)


def test_png_with_alpha_gets_a_webp_preview_with_alpha(api: httpx.Client, files: Path) -> None:
    media = _ready(api, files / "alpha.png")
    assert media["thumbnail"]["url"].endswith(".webp")
    assert _image(media["thumbnail"]["url"]).hasalpha()


def test_animated_gif_and_webp_get_previews(api: httpx.Client, files: Path) -> None:
    gif = _ready(api, files / "anim.gif")
    assert gif["metadata"]["frames"] == 3 and gif["thumbnail"]["source"] == "generated"
    webp = _ready(api, files / "image.webp")
    assert _image(webp["thumbnail"]["url"]).width == 64


def test_heic_becomes_a_jpeg_rendition(api: httpx.Client, files: Path) -> None:
    media = upload_file(api, files / "photo.heic")
    assert media["status"] == "processing" and media["content_type"] == "image/heic"
    ready = _settled_with_preview(api, media["id"])
    assert ready["status"] == "ready", ready["error"]
    assert (ready["width"], ready["height"]) == (64, 48)
    rendition = httpx.get(ready["url"])
    # `url`, `content_type` and `size` describe the same bytes: the JPEG served.
    assert rendition.headers["content-type"] == ready["content_type"] == "image/jpeg"
    assert rendition.content[:3] == b"\xff\xd8\xff" and len(rendition.content) == ready["size"]
    original = files / "photo.heic"
    assert ready["metadata"]["original_content_type"] == "image/heic"
    assert ready["metadata"]["original_size"] == original.stat().st_size
    assert (
        httpx.get(ready["metadata"]["original_url"]).content == (files / "photo.heic").read_bytes()
    )
    assert _image(ready["thumbnail_url"]).width == 64


def test_video_gets_probe_facts_and_a_cover_frame(api: httpx.Client, files: Path) -> None:
    media = _ready(api, files / "clip.mp4")
    assert media["metadata"]["codec"] == "h264" and media["metadata"]["aspect_ratio"] == "4:3"
    thumbnail = media["thumbnail"]
    expected_ms = min(1000, media["duration_ms"] // 2)  # one second in, or mid-clip
    assert thumbnail["source"] == "generated"
    assert abs(thumbnail["frame_time_ms"] - expected_ms) <= 40  # the frame at or after it
    assert (thumbnail["width"], thumbnail["height"]) == (160, 120)
    assert _image(thumbnail["url"]).width == 160


def test_rotated_video_reports_display_size_and_an_upright_cover(
    api: httpx.Client, files: Path, tmp_path: Path
) -> None:
    media = _ready(api, files / "portrait.mov")
    assert media["metadata"]["rotation"] in (90, 270)
    assert (media["width"], media["height"]) == (96, 160)
    assert media["metadata"]["aspect_ratio"] == "3:5"
    cover = _image(media["thumbnail"]["url"])
    assert (cover.width, cover.height) == (96, 160)
    # FFmpeg's own autorotation is the reference for which way is up.
    reference = tmp_path / "reference.png"
    subprocess.run(
        [
            mediafiles.ffmpeg(),
            "-loglevel",
            "error",
            "-i",
            str(files / "portrait.mov"),
            "-frames:v",
            "1",
            str(reference),
        ],
        check=True,
    )
    expected = pyvips.Image.new_from_file(str(reference)).colourspace("b-w")
    got = cover.colourspace("b-w")
    top, bottom = got.crop(0, 0, 96, 60).avg(), got.crop(0, 100, 96, 60).avg()
    ref_top, ref_bottom = expected.crop(0, 0, 96, 60).avg(), expected.crop(0, 100, 96, 60).avg()
    assert (top > bottom) == (ref_top > ref_bottom) and abs(top - bottom) > 100


@pytest.mark.parametrize(
    ("name", "kind", "container"),
    [
        ("clip.webm", "video", "webm"),
        ("clip.mkv", "video", "mkv"),
        ("clip.avi", "video", "avi"),
        ("clip.mov", "video", "mov"),
        ("tone.mp3", "audio", "mp3"),
        ("tone.m4a", "audio", "m4a"),
        ("tone.wav", "audio", "wav"),
    ],
)
def test_every_container_is_probed(
    api: httpx.Client, files: Path, name: str, kind: str, container: str
) -> None:
    media = upload_file(api, files / name)
    settled = wait_settled(api, media["id"])
    assert settled["status"] == "ready", settled["error"]
    assert settled["kind"] == kind and settled["metadata"]["container"] == container
    assert settled["duration_ms"] > 300
    if kind == "video":
        assert settled["thumbnail"]["source"] == "generated"
    else:
        assert settled["thumbnail"] is None and settled["metadata"]["audio_codec"]


def test_pdf_gets_page_count_and_first_page_preview(api: httpx.Client, files: Path) -> None:
    media = _ready(api, files / "doc.pdf")
    assert media["metadata"]["pages"] == 3
    assert _image(media["thumbnail"]["url"]).width == 512


def test_office_documents_get_a_generic_preview(api: httpx.Client, files: Path) -> None:
    for name in ("letter.docx", "deck.pptx"):
        media = _ready(api, files / name)
        assert media["kind"] == "document"
        assert (media["thumbnail"]["width"], media["thumbnail"]["height"]) == (512, 512)


@pytest.mark.parametrize(
    "name",
    ["truncated.mp4", "corrupt.pdf", "corrupt.jpg", "broken-pixels.png", "truncated.jpg"],
)
def test_corrupt_files_end_failed_with_a_reason_and_keep_no_bytes(
    server: RunningServer, api: httpx.Client, files: Path, name: str
) -> None:
    upload = api.post("/v1/media/upload", json={"filename": name}).json()
    httpx.put(upload["upload_url"], content=(files / name).read_bytes(), headers=upload["headers"])
    confirmed = api.post(f"/v1/media/{upload['id']}/confirm")
    if confirmed.status_code != 200:  # refused already at intake: also a clear failure
        assert error_of(confirmed)["code"] in ("processing_failed", "unsupported_media_type")
        return
    settled = _settled_with_preview(api, upload["id"])
    assert settled["status"] == "failed"
    assert settled["error"]["code"] == "processing_failed" and settled["error"]["message"]
    with server.state.session_factory() as session:
        media = session.get(Media, upload["id"])
        assert media is not None
        kept = [
            key for key in (media.storage_key, *media.derived_keys) if server.state.store.stat(key)
        ]
    assert kept == []  # a failed media keeps no bytes (they would escape quota and gc)
    assert api.get("/v1/usage").json()["bytes_used"] == 0


def test_same_bytes_again_reuse_the_processing(
    server: RunningServer, api: httpx.Client, files: Path
) -> None:
    first = _ready(api, files / "clip.mp4")
    second = upload_file(api, files / "clip.mp4", filename="again.mp4")
    assert second["status"] == "ready" and second["duplicate_of"] == first["id"]
    assert second["duration_ms"] == first["duration_ms"]
    assert second["thumbnail"]["url"] != first["thumbnail"]["url"]
    assert (
        httpx.get(second["thumbnail"]["url"]).content
        == httpx.get(first["thumbnail"]["url"]).content
    )
    with server.state.session_factory() as session:
        jobs = session.scalars(select(Job).where(Job.name == "media.process_av")).all()
    assert not [job for job in jobs if job.payload["media_id"] == second["id"]]
    # deleting the first leaves the duplicate's files in place
    api.delete(f"/v1/media/{first['id']}")
    assert httpx.get(second["thumbnail"]["url"]).status_code == 200


def test_thumbnail_from_a_frame_time(api: httpx.Client, files: Path) -> None:
    media = _ready(api, files / "clip.mp4")
    accepted = api.post(f"/v1/media/{media['id']}/thumbnail", json={"frame_time_ms": 800})
    assert accepted.status_code == 202 and accepted.json() == {
        "id": media["id"],
        "status": "processing",
    }
    done = wait_settled(api, media["id"])
    assert done["status"] == "ready"
    assert done["thumbnail"]["frame_time_ms"] == 800 and done["thumbnail"]["source"] == "generated"
    assert done["thumbnail"]["url"] != media["thumbnail"]["url"]
    assert httpx.get(media["thumbnail"]["url"]).status_code == 404  # the old preview is gone


def test_thumbnail_from_another_image(api: httpx.Client, files: Path) -> None:
    video = _ready(api, files / "clip.mp4")
    image = _ready(api, files / "alpha.png")
    accepted = api.post(f"/v1/media/{video['id']}/thumbnail", json={"source_media_id": image["id"]})
    assert accepted.status_code == 202
    done = wait_settled(api, video["id"])
    assert done["thumbnail"]["source"] == "custom" and done["thumbnail"]["width"] == 64
    again = api.post(f"/v1/media/{video['id']}/thumbnail", json={})
    assert again.status_code == 202
    assert wait_settled(api, video["id"])["thumbnail"]["source"] == "generated"


def test_thumbnail_requests_are_validated(
    server: RunningServer, api: httpx.Client, files: Path
) -> None:
    video = _ready(api, files / "clip.mp4")
    audio = upload_file(api, files / "tone.wav")
    wait_settled(api, audio["id"])
    url = f"/v1/media/{video['id']}/thumbnail"
    both = api.post(url, json={"frame_time_ms": 1, "source_media_id": video["id"]})
    assert both.status_code == 422
    assert api.post(url, json={"frame_time_ms": -5}).status_code == 422
    past_end = api.post(url, json={"frame_time_ms": 60_000})
    assert past_end.status_code == 422 and error_of(past_end)["duration_ms"] == video["duration_ms"]
    not_image = api.post(url, json={"source_media_id": audio["id"]})
    assert not_image.status_code == 422
    missing = api.post(url, json={"source_media_id": "med_01NOSUCHMEDIA000000000000"})
    assert missing.status_code == 404
    assert api.post(f"/v1/media/{audio['id']}/thumbnail", json={}).status_code == 422
    assert api.post("/v1/media/med_01NOSUCHMEDIA000000000000/thumbnail", json={}).status_code == 404
    with httpx.Client(base_url=server.base_url, headers={"X-API-Key": server.new_key()}) as other:
        assert other.post(url, json={}).status_code == 404
        foreign = _ready(other, files / "photo.jpg")
    stolen = api.post(url, json={"source_media_id": foreign["id"]})
    assert stolen.status_code == 404
    assert wait_settled(api, video["id"])["thumbnail"]["source"] == "generated"


def test_parallel_identical_thumbnail_requests_make_one_job(
    server: RunningServer, api: httpx.Client, files: Path
) -> None:
    media = _ready(api, files / "clip.mp4")
    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(
            pool.map(
                lambda _: api.post(
                    f"/v1/media/{media['id']}/thumbnail", json={"frame_time_ms": 300}
                ),
                range(20),
            )
        )
    assert {r.status_code for r in responses} <= {202, 409}
    assert sum(r.status_code == 202 for r in responses) >= 1
    with server.state.session_factory() as session:
        jobs = session.scalars(select(Job).where(Job.name == "media.make_thumbnail")).all()
    assert len([job for job in jobs if job.payload["media_id"] == media["id"]]) == 1
    assert 300 <= wait_settled(api, media["id"])["thumbnail"]["frame_time_ms"] <= 340


def test_variants_endpoint_gives_every_networks_verdict(api: httpx.Client, files: Path) -> None:
    photo = _ready(api, files / "photo.jpg")
    answer = api.get(f"/v1/media/{photo['id']}/variants")
    assert answer.status_code == 200
    verdicts = {p["platform"]: p for p in answer.json()["platforms"]}
    assert len(verdicts) == 11 and verdicts["x"]["verdict"] == "green"
    assert verdicts["youtube"]["verdict"] == "red" and verdicts["youtube"]["reasons"]
    pending = api.post("/v1/media/upload", json={"filename": "later.jpg"}).json()
    assert api.get(f"/v1/media/{pending['id']}/variants").status_code == 409
    assert api.get("/v1/media/med_01NOSUCHMEDIA000000000000/variants").status_code == 404


def test_variants_made_for_other_rules_are_made_again_once_however_often_asked(
    server: RunningServer, api: httpx.Client, files: Path
) -> None:
    """Reading the variants of a media whose variants were made for other rules (or bytes,
    or framing) queues new ones: once, in a transaction of its own, however many readers
    ask at the same time; they are told `pending` until the new ones are in."""
    photo = _ready(api, files / "photo.jpg")
    assert wait_variants(api, photo["id"])["variants_status"] == "ready"
    with server.state.session_factory() as session:
        media = session.get(Media, photo["id"])
        assert media is not None and media.variants_key
        made_for = media.variants_key
        media.variants_key = "made-for-older-rules"
        session.commit()
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: api.get(f"/v1/media/{photo['id']}/variants"), range(8)))
    assert {answer.status_code for answer in answers} == {200}
    assert "pending" in {answer.json()["variants_status"] for answer in answers}
    assert wait_variants(api, photo["id"])["variants_status"] == "ready"
    with server.state.session_factory() as session:
        jobs = session.scalars(select(Job).where(Job.name == JobName.MAKE_VARIANTS)).all()
        refreshed = session.get(Media, photo["id"])
        assert refreshed is not None and refreshed.variants_key == made_for
    assert len([job for job in jobs if job.payload["media_id"] == photo["id"]]) == 2
