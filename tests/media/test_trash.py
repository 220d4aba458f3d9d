"""Trash: deleted media can be listed and restored for 30 days, then gc purges it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from medialib import clock
from medialib.gc import collect_garbage
from tests.conftest import RunningServer
from tests.helpers import error_of, eventually, get_media, upload_file, wait_settled


def test_deleted_media_is_listed_in_the_trash_and_restored_as_it_was(
    api: httpx.Client, files: Path
) -> None:
    video = wait_settled(api, upload_file(api, files / "clip.mp4")["id"])
    photo = upload_file(api, files / "photo.jpg")
    api.delete(f"/v1/media/{video['id']}")
    api.delete(f"/v1/media/{photo['id']}")
    trash = api.get("/v1/media/trash").json()
    assert [m["id"] for m in trash["data"]] == [photo["id"], video["id"]]
    assert trash["pagination"]["total"] == 2
    listed = trash["data"][1]
    assert listed["status"] == "deleted" and listed["url"] is None
    assert listed["thumbnail_url"]  # the trash still shows what it is
    purge_at = dt.datetime.fromisoformat(listed["expires_at"])
    deleted_at = dt.datetime.fromisoformat(listed["deleted_at"])
    assert purge_at - deleted_at == dt.timedelta(days=30)

    restored = api.post(f"/v1/media/{video['id']}/restore")
    assert restored.status_code == 200
    body = restored.json()
    assert body["status"] == "ready" and body["deleted_at"] is None and body["expires_at"] is None
    assert body["url"] and httpx.get(body["url"]).status_code == 200
    assert api.get(f"/v1/media/{video['id']}").status_code == 200
    assert api.get("/v1/media/trash").json()["pagination"]["total"] == 1


def test_restore_refuses_what_is_not_in_the_trash(
    server: RunningServer, api: httpx.Client, files: Path
) -> None:
    media = upload_file(api, files / "photo.jpg")
    not_deleted = api.post(f"/v1/media/{media['id']}/restore")
    assert not_deleted.status_code == 409 and error_of(not_deleted)["code"] == "invalid_state"
    assert api.post("/v1/media/med_01NOSUCHMEDIA000000000000/restore").status_code == 404
    api.delete(f"/v1/media/{media['id']}")
    with httpx.Client(base_url=server.base_url, headers={"X-API-Key": server.new_key()}) as other:
        assert other.post(f"/v1/media/{media['id']}/restore").status_code == 404
        assert other.get("/v1/media/trash").json()["pagination"]["total"] == 0


def test_bulk_delete_moves_many_and_reports_unknown_ids(api: httpx.Client, files: Path) -> None:
    made = [upload_file(api, files / "photo.jpg", filename=f"{i}.jpg")["id"] for i in range(3)]
    response = api.post(
        "/v1/media/bulk-delete", json={"ids": [*made[:2], "med_01NOSUCHMEDIA000000000000"]}
    )
    assert response.json() == {
        "deleted": made[:2],
        "not_found": ["med_01NOSUCHMEDIA000000000000"],
        "in_use": [],
    }
    assert api.get("/v1/media").json()["pagination"]["total"] == 1
    assert api.post("/v1/media/bulk-delete", json={"ids": []}).status_code == 422


def test_gc_purges_trash_older_than_30_days_with_its_files(
    server: RunningServer, api: httpx.Client, files: Path
) -> None:
    old = wait_settled(api, upload_file(api, files / "clip.mp4")["id"])
    recent = upload_file(api, files / "photo.jpg")
    with clock.shifted(-dt.timedelta(days=31)):
        api.delete(f"/v1/media/{old['id']}")
    api.delete(f"/v1/media/{recent['id']}")
    report = collect_garbage(server.state.runtime)
    assert report["purged_from_trash"] >= 1
    assert httpx.get(old["url"]).status_code == 404
    assert httpx.get(old["thumbnail"]["url"]).status_code == 404
    trash = [m["id"] for m in api.get("/v1/media/trash").json()["data"]]
    assert trash == [recent["id"]]


def test_usage_counts_kept_bytes_by_kind(api: httpx.Client, files: Path) -> None:
    empty = api.get("/v1/usage").json()
    assert empty == {
        "media_count": 0,
        "bytes_used": 0,
        "quota_bytes": None,
        "by_kind": {},
        "generations_today": 0,
        "generations_per_day": 50,
    }
    photo = upload_file(api, files / "photo.jpg")
    video = upload_file(api, files / "clip.mp4")
    api.post("/v1/media/upload", json={"filename": "pending.jpg"})  # keeps nothing yet
    api.delete(f"/v1/media/{photo['id']}")  # the trash still takes space
    usage = api.get("/v1/usage").json()
    assert usage["media_count"] == 2
    assert usage["bytes_used"] == photo["size"] + video["size"]
    assert usage["by_kind"]["video"] == {"count": 1, "bytes": video["size"]}


def test_only_confirmed_live_bytes_are_served(api: httpx.Client, files: Path) -> None:
    """Unconfirmed bytes are never served; a trashed original stops being served (its
    preview stays, for the trash view) and comes back on restore."""
    from tests.helpers import put_bytes, request_upload

    upload = request_upload(api, filename="photo.jpg")
    assert put_bytes(upload, (files / "photo.jpg").read_bytes()).status_code == 200
    key = parse_qs(urlsplit(upload["upload_url"]).query)["key"][0]
    public = f"{str(api.base_url).rstrip('/')}/files/{key}"
    assert httpx.get(public).status_code == 404  # PUT but not confirmed

    media = api.post(f"/v1/media/{upload['id']}/confirm").json()
    assert httpx.get(media["url"]).status_code == 200
    media = eventually(
        lambda: get_media(api, media["id"]),
        lambda media: media["thumbnail"]["source"] == "generated",
        what="the preview",
    )
    api.delete(f"/v1/media/{media['id']}")
    assert httpx.get(media["url"]).status_code == 404
    assert httpx.get(media["thumbnail"]["url"]).status_code == 200
    api.post(f"/v1/media/{media['id']}/restore")
    assert httpx.get(media["url"]).status_code == 200
