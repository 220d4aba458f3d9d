"""Deleting a workspace (a cancelled account): its keys stop working at once, its media
goes to the trash, and gc purges it, bytes and all, when the trash's 30 days are over."""

from __future__ import annotations

import datetime as dt
import subprocess
import uuid
from pathlib import Path

import httpx
from sqlalchemy import select

from medialib import clock
from medialib.accounts.models import Account
from medialib.gc import collect_garbage
from medialib.media.models import Media, MediaStatus
from medialib.posts.models import Post
from medialib.webhooks.models import WebhookEndpoint
from medialib.workspaces.models import ApiKey, Workspace
from tests.conftest import RunningServer
from tests.helpers import put_bytes, request_upload, upload_file, wait_settled
from tests.processes import MEDIALIB, env_for


def _delete_workspace(server: RunningServer, name: str) -> subprocess.CompletedProcess[str]:
    env = env_for(server.settings.resolved_data_dir, server.settings.resolved_database_url)
    return subprocess.run(
        [*MEDIALIB, "workspace", "delete", "--workspace", name],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_deleted_workspace_locks_out_its_keys_and_its_media_is_purged_later(
    server: RunningServer, files: Path
) -> None:
    name = f"cancelled-{uuid.uuid4().hex[:8]}"
    with server.client(name) as api, server.client() as neighbour:
        kept = [upload_file(api, files / "photo.jpg", filename=f"{n}.jpg") for n in range(3)]
        theirs = upload_file(neighbour, files / "photo.jpg")
        deleted = _delete_workspace(server, name)
        assert deleted.returncode == 0 and "3 media" in deleted.stdout, deleted.stderr
        assert api.get("/v1/media").status_code == 401  # every key of it, at once
        assert neighbour.get(f"/v1/media/{theirs['id']}").status_code == 200
        with server.state.session_factory() as session:
            rows = [session.get(Media, media["id"]) for media in kept]
            keys = [key for row in rows if row for key in (row.storage_key, *row.derived_keys)]
            assert {row.status for row in rows if row} == {MediaStatus.DELETED}
        assert all(server.state.store.stat(key) for key in keys)  # restorable for now

        collect_garbage(server.state.runtime, now=clock.utcnow() + dt.timedelta(days=31))
        assert not [key for key in keys if server.state.store.stat(key)]
        assert neighbour.get(f"/v1/media/{theirs['id']}").status_code == 200
    assert _delete_workspace(server, "no-such-workspace").returncode == 1


def test_deleting_by_api_asks_for_the_name_and_stops_everything_of_it_at_once(
    server: RunningServer, files: Path
) -> None:
    """From the moment it is deleted, nothing of the workspace is served or accepted; 30
    days later no row and no byte of it is left."""
    name = f"leaving-{uuid.uuid4().hex[:8]}"
    with server.client(name) as api, server.client() as neighbour:
        photo = wait_settled(api, upload_file(api, files / "photo.jpg")["id"])
        preview = photo["thumbnail_url"]
        pending = request_upload(api, filename="later.jpg")  # a signed URL, not used yet
        hook = api.post("/v1/webhooks", json={"url": "https://93.184.216.34/hooks"}).json()
        post = api.post(
            "/v1/posts",
            json={
                "text": "later",
                "targets": [{"platform": "x"}],
                "media": [{"media_id": photo["id"]}],
                "scheduled_at": "2099-01-01T00:00:00Z",
            },
        ).json()
        account = api.post("/v1/accounts", json={"network": "instagram", "handle": "a"}).json()
        assert httpx.get(preview).status_code == 200
        theirs = upload_file(neighbour, files / "photo.jpg")

        refused = api.request("DELETE", "/v1/workspace", json={"confirm": "not its name"})
        assert refused.status_code == 422 and api.get("/v1/media").status_code == 200
        gone = api.request("DELETE", "/v1/workspace", json={"confirm": name})
        assert gone.status_code == 200, gone.text
        assert gone.json()["deleted"] is True and gone.json()["media_in_trash"] == 2

        assert api.get("/v1/media").status_code == 401
        assert httpx.get(preview).status_code == 404  # previews too, not 30 days later
        assert httpx.get(photo["url"]).status_code == 404
        late = put_bytes(pending, (files / "photo.jpg").read_bytes())
        assert late.status_code == 403
        with server.state.session_factory() as session:
            assert session.get(Post, post["id"]).status == "draft"  # type: ignore[union-attr]
            endpoint = session.get(WebhookEndpoint, hook["id"])
            assert endpoint is not None and endpoint.disabled_at is not None
            assert session.get(Account, account["id"]) is None  # credentials erased now
        assert neighbour.get(f"/v1/media/{theirs['id']}").status_code == 200

        report = collect_garbage(server.state.runtime, now=clock.utcnow() + dt.timedelta(days=31))
        assert report["purged_workspaces"] >= 1
        with server.state.session_factory() as session:
            for model, row_id in (
                (Media, photo["id"]),
                (Post, post["id"]),
                (WebhookEndpoint, hook["id"]),
                (Workspace, gone.json()["id"]),
            ):
                assert session.get(model, row_id) is None, model
            assert not session.scalars(
                select(ApiKey).where(ApiKey.workspace_id == gone.json()["id"])
            ).all()
        assert neighbour.get(f"/v1/media/{theirs['id']}").status_code == 200
