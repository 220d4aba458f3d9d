"""API keys over HTTP (the settings page's keys list): create one (its text shown once),
list them without their text, revoke one (it stops at once), never another workspace's."""

from __future__ import annotations

import httpx

from tests.conftest import RunningServer
from tests.helpers import error_of


def test_a_key_is_made_listed_and_revoked(server: RunningServer, api: httpx.Client) -> None:
    made = api.post("/v1/keys", json={"name": "CI uploader"})
    assert made.status_code == 201, made.text
    created = made.json()
    assert created["key"].startswith(created["prefix"]) and created["name"] == "CI uploader"
    with httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {created['key']}"}
    ) as other:
        assert other.get("/v1/media").status_code == 200  # same workspace
        listed = api.get("/v1/keys").json()["data"]
        assert created["id"] in {key["id"] for key in listed}
        assert all(key["key"] is None for key in listed)  # never shown again
        revoked = api.delete(f"/v1/keys/{created['id']}")
        assert revoked.json() == {"id": created["id"], "deleted": True}
        assert other.get("/v1/media").status_code == 401  # at once, cache or not
    [entry] = [key for key in api.get("/v1/keys").json()["data"] if key["id"] == created["id"]]
    assert entry["revoked_at"] is not None
    assert api.delete(f"/v1/keys/{created['id']}").status_code == 200  # again: no change


def test_keys_of_another_workspace_cannot_be_seen_or_revoked(
    server: RunningServer, api: httpx.Client
) -> None:
    with server.client() as stranger:
        theirs = stranger.post("/v1/keys", json={}).json()
        assert theirs["name"] is None
        mine = {key["id"] for key in api.get("/v1/keys").json()["data"]}
        assert theirs["id"] not in mine
        answer = api.delete(f"/v1/keys/{theirs['id']}")
        assert answer.status_code == 404 and error_of(answer)["code"] == "not_found"
        assert stranger.get("/v1/media").status_code == 200
    too_long = api.post("/v1/keys", json={"name": "x" * 201})
    assert too_long.status_code == 422
    assert api.post("/v1/keys", json={"name": 5}).status_code == 422
