"""Publishing to Bluesky, judged by Bluesky's own server: the reference PDS checks each
record against the lexicons, and each record is read back and its blobs compared with the
files medialib's plan chose."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import mediafiles
from tests.bluesky.pds import Pds, blob_cids
from tests.conftest import RunningServer
from tests.publishing.conftest import bluesky_account, ready_media, schedule, settled


def _planned_files(api: httpx.Client, post_id: str) -> list[dict[str, Any]]:
    plan = api.get(f"/v1/posts/{post_id}/plan").json()
    media: list[dict[str, Any]] = plan["targets"][0]["media"]
    return media


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _published_record(pds: Pds, post: dict[str, Any]) -> dict[str, Any]:
    target = post["targets"][0]
    assert target["status"] == "published", (target["status"], target["error"])
    assert target["remote_id"].startswith("at://") and target["remote_url"].startswith("https://")
    return pds.record(target["remote_id"])


def test_adding_an_account_checks_it_and_never_returns_its_password(
    api: httpx.Client, pds: Pds, publisher: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    account = pds.new_account()
    wrong = api.post(
        "/v1/accounts",
        json={
            "network": "bluesky",
            "handle": account.handle,
            "service_url": pds.url,
            "credentials": {"app_password": "not-the-password"},
        },
    )
    assert wrong.status_code == 422
    error = wrong.json()["error"]
    assert error["code"] == "account_check_failed"
    assert "Invalid identifier or password" in error["network_answer"]  # the PDS's own words
    added, _ = bluesky_account(api, pds)
    assert added["remote_id"].startswith("did:plc:") and added["has_credentials"] is True
    listed = api.get("/v1/accounts").text + api.get(f"/v1/accounts/{added['id']}").text
    from medialib.accounts.models import Account

    with publisher.state.session_factory() as session:
        row = session.get(Account, added["id"])
        assert row is not None and row.credentials is not None and row.session is not None
        sealed = row.credentials + row.session
    for secret in (account.password, account.access_jwt[:20]):
        assert secret not in listed
        assert secret.encode() not in sealed
        assert secret not in caplog.text  # never logged either


def test_a_photo_goes_out_at_its_time_with_alt_text_and_aspect_ratio(
    api: httpx.Client, pds: Pds, files: Path
) -> None:
    account, owner = bluesky_account(api, pds)
    photo = ready_media(api, files / "rotated.jpg", description="The team on stage")
    post = schedule(
        api,
        text="Launch day",
        targets=[{"platform": "bluesky", "account_id": account["id"]}],
        media=[{"media_id": photo["id"]}],
        langs=["en"],
    )
    done = settled(api, post["id"])
    assert done["status"] == "published" and done["published_at"]
    record = _published_record(pds, done)
    assert record["text"] == "Launch day" and record["langs"] == ["en"]
    [image] = record["embed"]["images"]
    assert image["alt"] == "The team on stage"  # the description stands in for alt text
    assert image["aspectRatio"] == {"width": 48, "height": 64}  # upright, as shown
    [planned] = _planned_files(api, post["id"])
    blob = pds.blob(owner.did, blob_cids(record)[0])
    assert _sha256(blob) == planned["checksum_sha256"]
    assert [r["uri"] for r in pds.records(owner.did)] == [done["targets"][0]["remote_id"]]


def test_four_images_and_facets_for_a_link_a_mention_and_a_hashtag(
    api: httpx.Client, pds: Pds, files: Path, tmp_path: Path
) -> None:
    account, owner = bluesky_account(api, pds)
    friend = pds.new_account()
    photos = [
        ready_media(api, mediafiles.jpeg(tmp_path / f"p{i}.jpg", 80 + i, 60), description=f"n{i}")
        for i in range(4)
    ]
    text = f"Café ☕ with @{friend.handle} — see https://example.com/launch. #medialib"
    post = schedule(
        api,
        text=text,
        targets=[{"platform": "bluesky"}],  # the workspace's only Bluesky account
        media=[{"media_id": p["id"]} for p in photos],
    )
    assert post["targets"][0]["account_id"] == account["id"]
    record = _published_record(pds, settled(api, post["id"]))
    assert len(record["embed"]["images"]) == 4
    encoded = text.encode()
    spans = {
        facet["features"][0]["$type"].rsplit("#", 1)[1]: (
            encoded[facet["index"]["byteStart"] : facet["index"]["byteEnd"]].decode(),
            facet["features"][0],
        )
        for facet in record["facets"]
    }
    assert spans["mention"] == (f"@{friend.handle}", spans["mention"][1])
    assert spans["mention"][1]["did"] == friend.did
    assert spans["link"][0] == "https://example.com/launch"
    assert spans["tag"][0] == "#medialib" and spans["tag"][1]["tag"] == "medialib"
    planned = _planned_files(api, post["id"])
    blobs = [_sha256(pds.blob(owner.did, cid)) for cid in blob_cids(record)]
    assert blobs == [item["checksum_sha256"] for item in planned]


def test_a_transparent_png_a_video_and_a_gif_as_its_mp4(
    api: httpx.Client, pds: Pds, files: Path
) -> None:
    bluesky_account(api, pds)
    png = ready_media(api, files / "alpha.png", description="A logo")
    video = ready_media(api, files / "clip.mp4", description="A clip")
    gif = ready_media(api, files / "anim.gif", description="A loop")
    posts = [
        schedule(
            api, text=f"as {name}", targets=[{"platform": "bluesky"}], media=[{"media_id": m["id"]}]
        )
        for name, m in (("png", png), ("video", video), ("gif", gif))
    ]
    png_done, video_done, gif_done = (settled(api, p["id"]) for p in posts)
    png_record = _published_record(pds, png_done)
    assert png_record["embed"]["images"][0]["image"]["mimeType"] == "image/png"
    for done in (video_done, gif_done):
        record = _published_record(pds, done)
        assert record["embed"]["$type"] == "app.bsky.embed.video"
        assert record["embed"]["video"]["mimeType"] == "video/mp4"
    gif_plan = _planned_files(api, posts[2]["id"])[0]
    assert gif_plan["send"] == "variant" and gif_plan["content_type"] == "video/mp4"


def test_an_apng_and_a_heic_go_out_labelled_as_the_bytes_sent(
    api: httpx.Client, pds: Pds, tmp_path: Path
) -> None:
    """The reference PDS sniffs every blob: an APNG labelled image/png, or a HEIC's JPEG
    labelled image/heic, would not match. Each goes out as the type of its bytes."""
    bluesky_account(api, pds)
    apng = ready_media(api, mediafiles.apng(tmp_path / "spin.png"), description="A spinner")
    heic = ready_media(api, mediafiles.heic(tmp_path / "photo.heic", 320, 240), description="P")
    posts = [
        schedule(api, text=name, targets=[{"platform": "bluesky"}], media=[{"media_id": m["id"]}])
        for name, m in (("apng", apng), ("heic", heic))
    ]
    for post, media in zip(posts, (apng, heic), strict=True):
        record = _published_record(pds, settled(api, post["id"]))
        image = record["embed"]["images"][0]["image"]
        planned = _planned_files(api, post["id"])[0]
        assert image["mimeType"] == planned["content_type"] == media["content_type"]
        served = httpx.get(planned["url"], timeout=30)
        assert served.headers["content-type"] == image["mimeType"]
    assert apng["content_type"] == "image/apng" and heic["content_type"] == "image/jpeg"


def test_text_longer_than_bluesky_takes_is_refused_when_scheduling(
    api: httpx.Client, pds: Pds
) -> None:
    bluesky_account(api, pds)
    # 301 user-perceived characters, each of them several code points.
    text = "👍🏽" * 301
    answer = api.post(
        "/v1/posts",
        json={
            "text": text,
            "targets": [{"platform": "bluesky"}],
            "scheduled_at": "2099-01-01T00:00:00Z",
        },
    )
    assert answer.status_code == 422
    [error] = answer.json()["error"]["errors"]
    assert (error["code"], error["limit"], error["actual"]) == ("text_too_long", 300, 301)
    fits = api.post(
        "/v1/posts",
        json={
            "text": "👍🏽" * 300,
            "targets": [{"platform": "bluesky"}],
            "scheduled_at": "2099-01-01T00:00:00Z",
        },
    )
    assert fits.status_code == 201, fits.text


def test_a_text_post_without_media_goes_out(api: httpx.Client, pds: Pds) -> None:
    bluesky_account(api, pds)
    post = schedule(api, text="Just words.", targets=[{"platform": "bluesky"}])
    record = _published_record(pds, settled(api, post["id"]))
    assert record["text"] == "Just words." and "embed" not in record


def test_a_target_without_an_account_fails_with_a_reason(api: httpx.Client) -> None:
    post = schedule(api, text="Nobody to post as", targets=[{"platform": "bluesky"}])
    done = settled(api, post["id"])
    assert done["status"] == "failed"
    assert done["targets"][0]["error"]["code"] == "no_account"


@pytest.mark.parametrize("publisher", ["sqlite"], indirect=True)
def test_a_scheduled_post_pins_its_media_and_cannot_change_once_sending(
    api: httpx.Client, pds: Pds, files: Path
) -> None:
    bluesky_account(api, pds)
    photo = ready_media(api, files / "photo.jpg", description="pinned")
    later = "2099-01-01T00:00:00Z"
    post = api.post(
        "/v1/posts",
        json={
            "text": "x",
            "targets": [{"platform": "bluesky"}],
            "media": [{"media_id": photo["id"]}],
            "scheduled_at": later,
        },
    ).json()
    assert api.delete(f"/v1/media/{photo['id']}").status_code == 409
    unscheduled = api.post(f"/v1/posts/{post['id']}/unschedule")
    assert unscheduled.status_code == 200 and unscheduled.json()["status"] == "draft"
    assert api.delete(f"/v1/media/{photo['id']}").status_code == 200
    assert api.post(f"/v1/media/{photo['id']}/restore").status_code == 200
    going = schedule(
        api, text="y", targets=[{"platform": "bluesky"}], media=[{"media_id": photo["id"]}]
    )
    done = settled(api, going["id"])
    assert done["status"] == "published"
    for attempt in (
        api.post(f"/v1/posts/{going['id']}/unschedule"),
        api.post(f"/v1/posts/{going['id']}/schedule", json={"scheduled_at": later}),
        api.put(f"/v1/posts/{going['id']}", json={"text": "z", "targets": [{"platform": "x"}]}),
    ):
        assert attempt.status_code == 409, attempt.text
    assert api.delete(f"/v1/media/{photo['id']}").status_code == 200  # released once out
