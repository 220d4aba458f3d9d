"""Posts that reference media, over real HTTP: drafts, scheduling checks per target,
the plan of what each network would be sent, and media in use."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import mediafiles
from tests.helpers import error_of, upload_file, wait_settled, wait_variants

LATER = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat()


def _ready(api: httpx.Client, path: Path, **fields: Any) -> str:
    media = upload_file(api, path, **fields)
    assert wait_settled(api, media["id"])["status"] == "ready"
    return str(media["id"])


def _post(api: httpx.Client, **body: Any) -> httpx.Response:
    return api.post("/v1/posts", json=body)


def _errors(response: httpx.Response) -> list[dict[str, Any]]:
    error = error_of(response)
    assert response.status_code == 422 and error["code"] == "media_validation_failed"
    for item in error["errors"]:  # every item reads as a verdict's reason does
        assert item["reason"] == item["message"] and item["code"] and item["fix"]
    return list(error["errors"])


def _reasons(response: httpx.Response) -> list[tuple[str, str | None, str]]:
    """(network, media, code) of every reason a post was refused for."""
    return [(e["platform"], e["media_id"], e["code"]) for e in _errors(response)]


def test_a_draft_counts_as_a_use_and_deleting_it_does_not(api: httpx.Client, files: Path) -> None:
    photo = _ready(api, files / "photo.jpg")
    draft = _post(api, text="Soon", targets=[{"platform": "x"}], media=[{"media_id": photo}])
    assert draft.status_code == 201
    post = draft.json()
    assert post["status"] == "draft" and post["scheduled_at"] is None
    assert post["media"] == [{"media_id": photo, "alt_text": None, "title": None}]
    assert api.get(f"/v1/media/{photo}").json()["usage_count"] == 1
    assert api.get(f"/v1/posts/{post['id']}").json() == post
    assert api.get("/v1/posts").json()["pagination"]["total"] == 1
    assert api.delete(f"/v1/posts/{post['id']}").json() == {"id": post["id"], "deleted": True}
    assert api.get(f"/v1/media/{photo}").json()["usage_count"] == 0
    assert api.get(f"/v1/posts/{post['id']}").status_code == 404


def test_most_used_sorts_by_the_posts_that_reference_media(api: httpx.Client, files: Path) -> None:
    first = _ready(api, files / "photo.jpg", filename="first.jpg")
    second = _ready(api, files / "alpha.png", filename="second.png")
    for _ in range(2):
        assert (
            _post(api, targets=[{"platform": "x"}], media=[{"media_id": second}]).status_code == 201
        )
    listed = api.get("/v1/media", params={"sort": "most_used"}).json()["data"]
    assert [m["id"] for m in listed] == [second, first]


def test_scheduling_checks_every_target_and_gives_every_reason(
    api: httpx.Client, files: Path
) -> None:
    photo = _ready(api, files / "photo.jpg")  # 64x48: fine for X and Bluesky, too small for Threads
    ok = _post(
        api,
        text="Launch",
        targets=[{"platform": "x"}, {"platform": "bluesky"}],
        media=[{"media_id": photo, "alt_text": "A red square"}],
        scheduled_at=LATER,
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["status"] == "scheduled"
    assert [t["status"] for t in ok.json()["targets"]] == ["pending", "pending"]

    # A target's account must be one of the workspace's, on that network.
    unknown = _post(
        api,
        targets=[{"platform": "x", "account_id": "acc_nosuchaccount"}],
        media=[{"media_id": photo, "alt_text": "A red square"}],
        scheduled_at=LATER,
    )
    assert unknown.status_code == 422
    assert unknown.json()["error"]["account_id"] == "acc_nosuchaccount"

    refused = _post(
        api,
        targets=[{"platform": "x"}, {"platform": "threads"}, {"platform": "youtube"}],
        media=[{"media_id": photo, "alt_text": "x" * 1001}],
        scheduled_at=LATER,
    )
    reasons = _reasons(refused)
    assert ("x", photo, "alt_text_too_long") in reasons
    alt = next(e for e in _errors(refused) if e["code"] == "alt_text_too_long")
    assert (alt["limit"], alt["actual"]) == (1000, 1001)
    assert alt["message"] == "The alt text is 1,001 characters; at most 1,000."
    assert ("threads", photo, "too_small") in reasons
    assert ("youtube", None, "kind_not_taken") in reasons
    assert api.get(f"/v1/media/{photo}").json()["usage_count"] == 1  # the refused post made nothing


def test_counts_and_mixing_follow_each_network(api: httpx.Client, files: Path) -> None:
    images = [_ready(api, files / "photo.jpg", filename=f"p{i}.jpg") for i in range(5)]
    video = _ready(api, files / "clip.mp4")
    many = _post(
        api,
        targets=[{"platform": "x"}, {"platform": "threads"}],
        media=[{"media_id": m} for m in images],
        scheduled_at=LATER,
    )
    reasons = _reasons(many)
    assert ("x", None, "too_many_of_kind") in reasons
    assert [r for r in reasons if r[0] == "x" and r[1] is None] == [("x", None, "too_many_of_kind")]
    assert not any(p == "threads" and m is None for p, m, _ in reasons)  # Threads takes 20
    mixed = _post(
        api,
        targets=[{"platform": "mastodon"}, {"platform": "telegram"}],
        media=[{"media_id": images[0]}, {"media_id": video}],
        scheduled_at=LATER,
    )
    reasons = _reasons(mixed)
    # Mastodon refuses a second attachment beside a video ("must be alone"); Telegram's
    # album mixes them.
    assert [r for r in reasons if r[0] == "mastodon"] == [("mastodon", None, "must_be_alone")]
    assert not any(p == "telegram" and m is None for p, m, _ in reasons)


def test_only_ready_media_can_be_scheduled_and_a_draft_can_be_scheduled_later(
    api: httpx.Client, files: Path
) -> None:
    pending = api.post("/v1/media/upload", json={"filename": "later.jpg"}).json()["id"]
    draft = _post(api, targets=[{"platform": "x"}], media=[{"media_id": pending}]).json()
    refused = api.post(f"/v1/posts/{draft['id']}/schedule", json={"scheduled_at": LATER})
    assert ("x", pending, "not_ready") in _reasons(refused)
    photo = _ready(api, files / "photo.jpg")
    ready_draft = _post(api, targets=[{"platform": "x"}], media=[{"media_id": photo}]).json()
    scheduled = api.post(f"/v1/posts/{ready_draft['id']}/schedule", json={"scheduled_at": LATER})
    assert scheduled.status_code == 200 and scheduled.json()["status"] == "scheduled"


def test_media_a_scheduled_post_uses_cannot_be_deleted(api: httpx.Client, files: Path) -> None:
    photo = _ready(api, files / "photo.jpg")
    spare = _ready(api, files / "alpha.png")
    post = _post(
        api, targets=[{"platform": "x"}], media=[{"media_id": photo}], scheduled_at=LATER
    ).json()
    refused = api.delete(f"/v1/media/{photo}")
    assert refused.status_code == 409
    error = error_of(refused)
    assert error["code"] == "media_in_use" and error["post_ids"] == [post["id"]]
    bulk = api.post("/v1/media/bulk-delete", json={"ids": [photo, spare]}).json()
    assert bulk["deleted"] == [spare] and bulk["in_use"] == [photo]
    assert api.delete(f"/v1/posts/{post['id']}").status_code == 200
    assert api.delete(f"/v1/media/{photo}").status_code == 200  # no longer in use


def test_the_plan_sends_each_network_the_original_or_its_variant(
    api: httpx.Client, tmp_path: Path
) -> None:
    big = _ready(api, mediafiles.noisy_jpeg(tmp_path / "poster.jpg"))  # 5.7 MB
    assert wait_variants(api, big)["variants_status"] == "ready"
    post = _post(
        api,
        targets=[{"platform": "bluesky"}, {"platform": "pinterest"}, {"platform": "youtube"}],
        media=[{"media_id": big}],
    ).json()
    plan = api.get(f"/v1/posts/{post['id']}/plan").json()
    assert plan["status"] == "draft" and plan["ok"] is False  # YouTube takes no images
    by_platform = {t["platform"]: t["media"][0] for t in plan["targets"]}
    bluesky = by_platform["bluesky"]
    assert bluesky["send"] == "variant" and bluesky["size"] <= 2_000_000
    assert len(httpx.get(bluesky["url"]).content) == bluesky["size"]
    assert by_platform["pinterest"]["send"] == "original"
    assert by_platform["youtube"]["send"] is None and by_platform["youtube"]["reasons"]


def test_creating_a_post_twice_with_one_idempotency_key_makes_one(
    api: httpx.Client, files: Path
) -> None:
    photo = _ready(api, files / "photo.jpg")
    body = {"targets": [{"platform": "x"}], "media": [{"media_id": photo}]}
    headers = {"Idempotency-Key": "post-once"}
    first = api.post("/v1/posts", json=body, headers=headers)
    again = api.post("/v1/posts", json=body, headers=headers)
    assert first.json()["id"] == again.json()["id"]
    assert api.get(f"/v1/media/{photo}").json()["usage_count"] == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"targets": []}, 422),
        ({"targets": [{"platform": "myspace"}]}, 422),
        (
            {
                "targets": [{"platform": "x"}],
                "media": [{"media_id": "med_01NOSUCH0000000000000000"}],
            },
            422,
        ),
        ({"targets": [{"platform": "x"}], "scheduled_at": "2020-01-01T00:00:00Z"}, 422),
        ({"targets": [{"platform": "x"}], "scheduled_at": "2099-01-01T00:00:00"}, 422),
        ({"targets": [{"platform": "x"}], "colour": "red"}, 422),
    ],
)
def test_malformed_posts_are_refused(api: httpx.Client, body: dict[str, Any], status: int) -> None:
    answer = api.post("/v1/posts", json=body)
    assert answer.status_code == status
    assert error_of(answer)["code"] == "validation_error"


def test_another_workspaces_posts_and_media_are_not_found(
    api: httpx.Client, server: Any, files: Path
) -> None:
    photo = _ready(api, files / "photo.jpg")
    post = _post(api, targets=[{"platform": "x"}], media=[{"media_id": photo}]).json()
    with httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {server.new_key()}"}
    ) as other:
        assert other.get(f"/v1/posts/{post['id']}").status_code == 404
        assert other.get(f"/v1/posts/{post['id']}/plan").status_code == 404
        assert other.delete(f"/v1/posts/{post['id']}").status_code == 404
        stolen = other.post(
            "/v1/posts", json={"targets": [{"platform": "x"}], "media": [{"media_id": photo}]}
        )
        assert stolen.status_code == 422 and error_of(stolen)["missing"] == [photo]


def test_an_instagram_carousel_takes_two_to_ten_and_the_plan_names_the_form(
    api: httpx.Client, files: Path
) -> None:
    images = [_ready(api, files / "photo.jpg", filename=f"c{i}.jpg") for i in range(11)]
    for count in (2, 10):
        post = _post(
            api,
            targets=[{"platform": "instagram"}],
            media=[{"media_id": m, "alt_text": "A square"} for m in images[:count]],
            scheduled_at=LATER,
        )
        assert post.status_code == 201, post.text
        plan = api.get(f"/v1/posts/{post.json()['id']}/plan").json()
        assert [t["form"] for t in plan["targets"]] == ["carousel"]
    one = _post(api, targets=[{"platform": "instagram"}], media=[{"media_id": images[0]}]).json()
    assert api.get(f"/v1/posts/{one['id']}/plan").json()["targets"][0]["form"] == "feed"
    refused = _post(
        api,
        targets=[{"platform": "instagram"}],
        media=[{"media_id": m} for m in images],
        scheduled_at=LATER,
    )
    [error] = _errors(refused)
    assert (error["code"], error["form"], error["limit"], error["actual"]) == (
        "too_many_media",
        "carousel",
        10,
        11,
    )


def test_a_media_description_is_its_alt_text_unless_the_post_gives_one(
    api: httpx.Client, files: Path
) -> None:
    photo = _ready(api, files / "photo.jpg")
    assert api.patch(f"/v1/media/{photo}", json={"description": "A red square"}).status_code == 200
    post = _post(api, targets=[{"platform": "x"}], media=[{"media_id": photo}]).json()
    assert post["media"][0]["alt_text"] == "A red square"
    given = _post(
        api, targets=[{"platform": "x"}], media=[{"media_id": photo, "alt_text": "Mine"}]
    ).json()
    assert given["media"][0]["alt_text"] == "Mine"


def test_small_images_come_inline_and_become_media_like_any_upload(
    api: httpx.Client, files: Path
) -> None:
    png = (files / "alpha.png").read_bytes()
    body = {
        "targets": [{"platform": "x"}],
        "media": [{"data": base64.b64encode(png).decode(), "kind": "image", "alt_text": "Logo"}],
        "scheduled_at": LATER,
    }
    post = _post(api, **body)
    assert post.status_code == 201, post.text
    media_id = post.json()["media"][0]["media_id"]
    media = api.get(f"/v1/media/{media_id}").json()
    assert media["status"] == "ready" and media["content_type"] == "image/png"
    assert media["description"] == "Logo" and media["size"] == len(png)
    assert media["usage_count"] == 1
    # A data: URL works too, and the same bytes are known as the same file.
    body["media"] = [{"data": "data:image/png;base64," + base64.b64encode(png).decode()}]
    again = _post(api, **body).json()["media"][0]["media_id"]
    assert api.get(f"/v1/media/{again}").json()["duplicate_of"] == media_id


@pytest.mark.parametrize(
    "item, status, code",
    [
        ({"data": "not base64 at all!"}, 422, "validation_error"),
        ({"data": base64.b64encode(b"\x00" * 1_048_577).decode()}, 413, "payload_too_large"),
        ({"data": base64.b64encode(b"<svg onload='alert(1)'/>").decode()}, 415, None),
        ({"data": base64.b64encode(b"%PDF-1.4\n%%EOF\n").decode()}, 415, None),
        ({"data": "aGk=", "media_id": "med_x"}, 422, "validation_error"),
        ({"data": "aGk=", "kind": "video"}, 422, "validation_error"),
    ],
)
def test_hostile_inline_data_is_refused_and_no_post_is_made(
    api: httpx.Client, item: dict[str, Any], status: int, code: str | None
) -> None:
    before = api.get("/v1/posts").json()["pagination"]["total"]
    answer = _post(api, targets=[{"platform": "x"}], media=[item])
    assert answer.status_code == status, answer.text
    error = error_of(answer)
    assert code is None or error["code"] == code
    assert api.get("/v1/posts").json()["pagination"]["total"] == before
    # Nothing of the refused request stays in the library, not even a failed row.
    assert api.get("/v1/media").json()["data"] == []


def test_at_most_four_images_come_inline(api: httpx.Client) -> None:
    tiny = base64.b64encode(b"\x89PNG").decode()
    answer = _post(api, targets=[{"platform": "x"}], media=[{"data": tiny}] * 5)
    assert answer.status_code == 422 and error_of(answer)["code"] == "validation_error"
