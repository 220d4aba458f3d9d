"""What the page's composer leans on, over real HTTP: the live check (nothing saved),
saving a post again, the posts list by status and by the media a post carries."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx

from tests import mediafiles
from tests.helpers import error_of, upload_file, wait_settled, wait_variants

LATER = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat()


def _ready(api: httpx.Client, path: Path, **fields: Any) -> str:
    media = upload_file(api, path, **fields)
    assert wait_settled(api, media["id"])["status"] == "ready"
    return str(media["id"])


def test_the_check_answers_per_network_and_saves_nothing(
    api: httpx.Client, files: Path, tmp_path: Path
) -> None:
    photo = _ready(api, files / "photo.jpg", description="A red square")
    portrait = _ready(api, mediafiles.jpeg(tmp_path / "tall.jpg", 600, 1400))
    wait_variants(api, portrait)
    body = {
        "text": "Two photos",
        "targets": [{"platform": "instagram"}, {"platform": "bluesky"}],
        "media": [{"media_id": photo}, {"media_id": portrait}],
    }
    answer = api.post("/v1/posts/check", json=body)
    assert answer.status_code == 200, answer.text
    check = answer.json()
    by_network = {target["platform"]: target for target in check["targets"]}
    assert set(by_network) == {"instagram", "bluesky"}
    assert by_network["instagram"]["form"] == "carousel"
    # The portrait is cut to Instagram's aspect range: the plan says where.
    planned = {m["media_id"]: m for m in by_network["instagram"]["media"]}
    assert planned[portrait]["send"] == "variant", planned[portrait]
    crop = planned[portrait]["crop"]
    assert crop["width"] == 600 and crop["height"] < 1400
    assert api.get("/v1/posts").json()["pagination"]["total"] == 0
    assert api.get(f"/v1/media/{photo}").json()["usage_count"] == 0

    too_many = {**body, "targets": [{"platform": "x"}], "media": [{"media_id": photo}] * 2}
    refused = api.post("/v1/posts/check", json=too_many)
    assert refused.status_code == 422 and error_of(refused)["field"] == "media"
    unknown = api.post("/v1/posts/check", json={**body, "targets": [{"platform": "myspace"}]})
    assert unknown.status_code == 422 and error_of(unknown)["code"] == "validation_error"
    inline = {**body, "media": [{"data": "aGVsbG8=", "kind": "image"}]}
    assert api.post("/v1/posts/check", json=inline).status_code == 422


def test_a_check_that_fails_names_the_reason_and_its_fix(api: httpx.Client, files: Path) -> None:
    clip = _ready(api, files / "clip.mp4")
    photo = _ready(api, files / "photo.jpg")
    mixed = api.post(
        "/v1/posts/check",
        json={
            "targets": [{"platform": "bluesky"}],
            "media": [{"media_id": clip}, {"media_id": photo}],
        },
    ).json()
    assert mixed["ok"] is False
    [target] = mixed["targets"]
    reasons = target["reasons"] + [r for m in target["media"] for r in m["reasons"]]
    assert "no_mixing" in {reason["code"] for reason in reasons}
    assert all(reason["message"] and reason["fix"] for reason in reasons)


def test_saving_again_replaces_the_post_and_moves_the_usage(api: httpx.Client, files: Path) -> None:
    first = _ready(api, files / "photo.jpg")
    second = _ready(api, files / "alpha.png")
    post = api.post(
        "/v1/posts",
        json={"text": "v1", "targets": [{"platform": "x"}], "media": [{"media_id": first}]},
    ).json()
    saved = api.put(
        f"/v1/posts/{post['id']}",
        json={
            "text": "v2",
            "targets": [{"platform": "x"}, {"platform": "bluesky"}],
            "media": [{"media_id": second, "alt_text": "Alpha"}, {"media_id": first}],
            "scheduled_at": LATER,
        },
    )
    assert saved.status_code == 200, saved.text
    again = saved.json()
    assert again["id"] == post["id"] and again["text"] == "v2" and again["status"] == "scheduled"
    assert [m["media_id"] for m in again["media"]] == [second, first]
    assert again["media"][0]["alt_text"] == "Alpha"
    assert api.get(f"/v1/media/{first}").json()["usage_count"] == 1
    assert api.get(f"/v1/media/{second}").json()["usage_count"] == 1
    back_to_draft = api.put(
        f"/v1/posts/{post['id']}",
        json={"text": "v3", "targets": [{"platform": "x"}], "media": [{"media_id": second}]},
    ).json()
    assert back_to_draft["status"] == "draft" and back_to_draft["scheduled_at"] is None
    assert api.get(f"/v1/media/{first}").json()["usage_count"] == 0
    # A refused save changes nothing.
    refused = api.put(
        f"/v1/posts/{post['id']}",
        json={"text": "v4", "targets": [{"platform": "x"}], "media": [{"media_id": "med_nope"}]},
    )
    assert refused.status_code == 422
    assert api.get(f"/v1/posts/{post['id']}").json()["text"] == "v3"
    assert (
        api.put("/v1/posts/pst_missing", json={"targets": [{"platform": "x"}]}).status_code == 404
    )


def test_posts_list_by_status_and_by_the_media_they_carry(api: httpx.Client, files: Path) -> None:
    photo = _ready(api, files / "photo.jpg")
    other = _ready(api, files / "alpha.png")
    draft = api.post(
        "/v1/posts", json={"targets": [{"platform": "x"}], "media": [{"media_id": photo}]}
    ).json()
    scheduled = api.post(
        "/v1/posts",
        json={
            "targets": [{"platform": "x"}],
            "media": [{"media_id": other}],
            "scheduled_at": LATER,
        },
    ).json()
    drafts = api.get("/v1/posts", params={"status": "draft"}).json()["data"]
    assert [p["id"] for p in drafts] == [draft["id"]]
    planned = api.get("/v1/posts", params={"status": "scheduled"}).json()["data"]
    assert [p["id"] for p in planned] == [scheduled["id"]]
    using = api.get("/v1/posts", params={"media_id": photo}).json()
    assert [p["id"] for p in using["data"]] == [draft["id"]] and using["pagination"]["total"] == 1
    assert api.get("/v1/posts", params={"status": "sent"}).status_code == 422


def test_the_media_list_keeps_only_the_ids_asked_for(api: httpx.Client, files: Path) -> None:
    ids = [upload_file(api, files / "photo.jpg", filename=f"{n}.jpg")["id"] for n in range(3)]
    asked = api.get("/v1/media", params={"ids": f"{ids[0]},{ids[2]},med_other"}).json()
    assert sorted(m["id"] for m in asked["data"]) == sorted([ids[0], ids[2]])
    assert asked["pagination"]["total"] == 2
    too_many = ",".join(f"med_{n}" for n in range(101))
    assert api.get("/v1/media", params={"ids": too_many}).status_code == 422
    assert api.get("/v1/media", params={"ids": "med_1;drop"}).status_code == 422


def test_a_carousel_follows_its_first_items_shape(api: httpx.Client, tmp_path: Path) -> None:
    """Instagram shows every carousel item at the first item's ratio: the plan says which
    stills medialib will cut to it as the post goes (around their subject; a post that
    went out is in tests/publishing/test_handoff.py) and shows the part that stays."""
    square = _ready(api, mediafiles.jpeg(tmp_path / "square.jpg", 1080, 1080))
    wide = _ready(api, mediafiles.jpeg(tmp_path / "wide.jpg", 1600, 900))
    tall = _ready(api, mediafiles.jpeg(tmp_path / "tall.jpg", 900, 1600))
    also_square = _ready(api, mediafiles.jpeg(tmp_path / "also.jpg", 800, 800))
    for media_id in (square, wide, tall, also_square):
        wait_variants(api, media_id)
    body = {
        "text": "Four shapes",
        "targets": [{"platform": "instagram"}],
        "media": [{"media_id": m} for m in (square, wide, tall, also_square)],
    }
    instagram = api.post("/v1/posts/check", json=body).json()["targets"][0]
    assert instagram["form"] == "carousel" and instagram["ok"]
    planned = {m["media_id"]: m for m in instagram["media"]}
    codes = {media_id: [r["code"] for r in item["reasons"]] for media_id, item in planned.items()}
    assert "carousel_ratio" not in codes[square] and "carousel_ratio" not in codes[also_square]
    assert planned[square]["network_crop"] is None and planned[also_square]["network_crop"] is None
    # The 16:9 photo (plain, so no subject off-centre) is to be cut to its centre square.
    assert planned[wide]["send"] == "original"
    assert planned[wide]["network_crop"] == {"left": 350, "top": 0, "width": 900, "height": 900}
    # The 9:16 one is made 4:5 for Instagram alone; in this carousel the square that stays
    # lies inside that crop.
    ours, theirs = planned[tall]["crop"], planned[tall]["network_crop"]
    assert theirs["width"] == theirs["height"] == ours["width"] == 900
    assert ours["top"] <= theirs["top"] and theirs["top"] + 900 <= ours["top"] + ours["height"]
    note = next(r for r in planned[tall]["reasons"] if r["code"] == "carousel_ratio")
    assert note["fix"] == "crop" and note["limit"] == 1.0 and "as the post goes" in note["message"]
    # A single post of the same media takes no carousel: nothing is cut to another's shape.
    alone = api.post("/v1/posts/check", json={**body, "media": [{"media_id": wide}]}).json()
    assert alone["targets"][0]["media"][0]["network_crop"] is None


def test_a_networks_cap_follows_how_the_account_sends_files(
    api: httpx.Client, tmp_path: Path
) -> None:
    """Telegram takes a photo of 5 MB by URL and 10 MB uploaded: a 5.7 MB photo goes as a
    variant by URL, and as itself when the account's publisher uploads."""
    big = _ready(api, mediafiles.noisy_jpeg(tmp_path / "poster.jpg"))
    wait_variants(api, big)
    body = {"text": "Poster", "targets": [{"platform": "telegram"}], "media": [{"media_id": big}]}

    def planned() -> dict[str, Any]:
        check = api.post("/v1/posts/check", json=body).json()
        media: dict[str, Any] = check["targets"][0]["media"][0]
        return media

    by_url = planned()
    assert by_url["send"] == "variant" and by_url["size"] <= 5_000_000
    assert any(
        r["code"] == "file_too_large" and "by URL" in r["message"] for r in by_url["reasons"]
    )
    account = api.post(
        "/v1/accounts",
        json={"network": "telegram", "handle": "@ourchannel", "sends_files": "upload"},
    )
    assert account.status_code == 201 and account.json()["sends_files"] == "upload"
    uploaded = planned()
    assert uploaded["send"] == "original" and uploaded["size"] > 5_000_000
    changed = api.patch(f"/v1/accounts/{account.json()['id']}", json={"sends_files": "url"})
    assert changed.status_code == 200 and changed.json()["sends_files"] == "url"
    assert planned()["send"] == "variant"
