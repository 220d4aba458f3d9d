"""Retention per workspace: media re-dated when it changes, announced a week before its
end (`media.expiring`), purged after it (`media.purged`), never while a scheduled post
needs it."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import httpx
from standardwebhooks.webhooks import Webhook

from medialib import clock
from medialib.db import session_scope
from medialib.gc import collect_garbage
from medialib.media.models import Media
from tests.conftest import RunningServer
from tests.helpers import error_of, upload_file
from tests.webhooks.conftest import Receiver


def _gc_in(server: RunningServer, days: float) -> dict[str, int]:
    """Collect as it would be `days` from now."""
    return collect_garbage(server.state.runtime, now=clock.utcnow() + dt.timedelta(days=days))


def _storage_key(server: RunningServer, media_id: str) -> str:
    with session_scope(server.state.session_factory) as session:
        media = session.get(Media, media_id)
        assert media is not None
        return media.storage_key


def _expires(api: httpx.Client, media_id: str) -> dt.datetime | None:
    value = api.get(f"/v1/media/{media_id}").json()["expires_at"]
    return dt.datetime.fromisoformat(value) if value else None


def test_retention_is_set_per_workspace_and_dates_its_media(api: httpx.Client, files: Path) -> None:
    before = upload_file(api, files / "photo.jpg")
    assert api.get("/v1/workspace").json()["retention_days"] is None
    assert _expires(api, before["id"]) is None
    updated = api.patch("/v1/workspace", json={"retention_days": 30})
    assert updated.status_code == 200 and updated.json()["retention_days"] == 30
    created = dt.datetime.fromisoformat(before["created_at"])
    assert _expires(api, before["id"]) == created + dt.timedelta(days=30)
    after = upload_file(api, files / "alpha.png")
    expected = dt.datetime.fromisoformat(after["created_at"]) + dt.timedelta(days=30)
    assert abs((_expires(api, after["id"]) or expected) - expected) < dt.timedelta(seconds=5)

    # The trash keeps its own 30 days; restoring brings the retention date back.
    api.delete(f"/v1/media/{before['id']}")
    api.post(f"/v1/media/{before['id']}/restore")
    assert _expires(api, before["id"]) == created + dt.timedelta(days=30)

    for bad in (45, 0, "forever"):
        refused = api.patch("/v1/workspace", json={"retention_days": bad})
        assert refused.status_code == 422 and error_of(refused)["code"] == "validation_error"
    assert (
        api.patch("/v1/workspace", json={"retention_days": None}).json()["retention_days"] is None
    )
    assert _expires(api, before["id"]) is None


def test_media_is_announced_a_week_ahead_once_then_purged(
    hook_server: RunningServer, api: httpx.Client, receiver: Receiver, files: Path
) -> None:
    endpoint = api.post(
        "/v1/webhooks", json={"url": receiver.url, "events": ["media.expiring", "media.purged"]}
    ).json()
    api.patch("/v1/workspace", json={"retention_days": 30})
    media = upload_file(api, files / "photo.jpg")
    _gc_in(hook_server, 22)  # 8 days left: not yet (else nothing would be left to announce)
    assert _gc_in(hook_server, 27)["announced_expiring"] >= 1
    _gc_in(hook_server, 28)  # announced once only
    announced = receiver.wait_for(1)[0]
    expiring = Webhook(endpoint["secret"]).verify(announced[1], announced[0])
    assert expiring["type"] == "media.expiring" and expiring["data"]["id"] == media["id"]
    assert expiring["data"]["expires_at"]

    key = _storage_key(hook_server, media["id"])
    assert _gc_in(hook_server, 30.01)["purged_by_retention"] >= 1
    purged = receiver.wait_for(2)[1]
    event = Webhook(endpoint["secret"]).verify(purged[1], purged[0])
    assert event["type"] == "media.purged" and event["data"]["id"] == media["id"]
    assert api.get(f"/v1/media/{media['id']}").status_code == 404
    assert hook_server.state.store.stat(key) is None
    time.sleep(0.3)
    assert len(receiver.received) == 2


def test_a_scheduled_post_keeps_its_media_past_retention(
    hook_server: RunningServer, api: httpx.Client, files: Path
) -> None:
    api.patch("/v1/workspace", json={"retention_days": 30})
    media = upload_file(api, files / "photo.jpg")
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    post = api.post(
        "/v1/posts",
        json={
            "targets": [{"platform": "x"}],
            "media": [{"media_id": media["id"]}],
            "scheduled_at": later,
        },
    )
    assert post.status_code == 201, post.text
    _gc_in(hook_server, 31)
    assert api.get(f"/v1/media/{media['id']}").status_code == 200
    api.delete(f"/v1/posts/{post.json()['id']}")
    _gc_in(hook_server, 31)
    assert api.get(f"/v1/media/{media['id']}").status_code == 404
