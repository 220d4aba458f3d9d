"""A workspace's storage quota: set with `medialib quota`, shown by /v1/usage, enforced
when an upload is requested and again at confirm (where the size is known for sure)."""

from __future__ import annotations

import base64
import subprocess
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from medialib.cli_admin import parse_size
from medialib.db import session_scope
from medialib.media.models import Media
from medialib.workspaces.service import WorkspaceService
from tests.conftest import RunningServer
from tests.helpers import error_of, put_bytes, request_upload, upload_file
from tests.processes import MEDIALIB, env_for


def set_quota(server: RunningServer, workspace: str, size: str) -> subprocess.CompletedProcess[str]:
    env = env_for(server.settings.resolved_data_dir, server.settings.resolved_database_url)
    return subprocess.run(
        [*MEDIALIB, "quota", "--workspace", workspace, size],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def team(server: RunningServer) -> Iterator[tuple[str, httpx.Client]]:
    name = f"quota-{uuid.uuid4().hex[:8]}"
    key = server.new_key(name)
    with httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60
    ) as client:
        yield name, client


def test_quota_is_shown_and_refuses_what_would_not_fit(
    server: RunningServer, team: tuple[str, httpx.Client], files: Path
) -> None:
    name, api = team
    photo = (files / "photo.jpg").read_bytes()
    assert api.get("/v1/usage").json()["quota_bytes"] is None
    result = set_quota(server, name, str(len(photo) * 2 + 10))
    assert result.returncode == 0, result.stderr
    assert api.get("/v1/usage").json()["quota_bytes"] == len(photo) * 2 + 10

    upload_file(api, files / "photo.jpg")
    upload_file(api, files / "photo.jpg", filename="again.jpg")
    usage = api.get("/v1/usage").json()
    assert usage["bytes_used"] == 2 * len(photo)

    # Declared up front: refused before any byte moves, and nothing is made.
    refused = api.post("/v1/media/upload", json={"filename": "c.jpg", "size": len(photo)})
    assert refused.status_code == 413
    error = error_of(refused)
    assert error["code"] == "quota_exceeded"
    assert error["quota_bytes"] == len(photo) * 2 + 10 and error["used_bytes"] == 2 * len(photo)
    assert api.get("/v1/media").json()["pagination"]["total"] == 2

    # Not declared: the bytes go up, confirm measures and refuses them, and keeps nothing.
    upload = request_upload(api, filename="d.jpg")
    assert put_bytes(upload, photo).status_code == 200
    confirm = api.post(f"/v1/media/{upload['id']}/confirm")
    assert confirm.status_code == 413 and error_of(confirm)["code"] == "quota_exceeded"
    media = api.get(f"/v1/media/{upload['id']}").json()
    assert media["status"] == "failed" and media["error"]["code"] == "quota_exceeded"
    assert api.get("/v1/usage").json()["bytes_used"] == 2 * len(photo)
    with session_scope(server.state.session_factory) as session:
        refused_media = session.get(Media, upload["id"])
        assert refused_media is not None
        assert server.state.store.stat(refused_media.storage_key) is None  # bytes removed

    # The other ways in are held to the same quota.
    direct = api.post("/v1/media", files={"file": ("e.jpg", photo, "image/jpeg")})
    assert direct.status_code == 413 and error_of(direct)["code"] == "quota_exceeded"
    meta = f"filename {base64.b64encode(b'f.jpg').decode()}"
    tus = api.post(
        "/v1/tus/",
        headers={
            "Tus-Resumable": "1.0.0",
            "Upload-Length": str(len(photo)),
            "Upload-Metadata": meta,
        },
    )
    assert tus.status_code == 413 and error_of(tus)["code"] == "quota_exceeded"


def test_trash_counts_until_purged_and_a_raised_quota_lets_uploads_in(
    server: RunningServer, team: tuple[str, httpx.Client], files: Path
) -> None:
    name, api = team
    photo = (files / "photo.jpg").read_bytes()
    assert set_quota(server, name, str(len(photo))).returncode == 0
    first = upload_file(api, files / "photo.jpg")
    assert api.delete(f"/v1/media/{first['id']}").status_code == 200
    refused = api.post("/v1/media/upload", json={"filename": "b.jpg", "size": len(photo)})
    assert error_of(refused)["code"] == "quota_exceeded"  # the trash still holds the bytes

    assert set_quota(server, name, "none").returncode == 0
    assert api.get("/v1/usage").json()["quota_bytes"] is None
    assert upload_file(api, files / "photo.jpg", filename="b.jpg")["status"] == "ready"


def test_quota_command_refuses_unknown_workspaces_and_units(server: RunningServer) -> None:
    missing = set_quota(server, "no-such-workspace", "1GB")
    assert missing.returncode == 1 and "no workspace" in missing.stderr
    bad = set_quota(server, "no-such-workspace", "12 parsecs")
    assert bad.returncode == 2


def test_sizes_read_like_people_write_them() -> None:
    assert parse_size("10GB") == 10_000_000_000
    assert parse_size("500 MiB") == 500 * 2**20
    assert parse_size("1.5TB") == 1_500_000_000_000
    assert parse_size("1234") == 1234
    assert parse_size("none") is None
    with pytest.raises(ValueError):
        parse_size("12XB")


@pytest.mark.parametrize("with_quota", [False, True])
def test_concurrent_uploads_into_one_workspace_never_deadlock(
    server: RunningServer, team: tuple[str, httpx.Client], files: Path, with_quota: bool
) -> None:
    """Every confirm takes its media row; with a quota, the workspace row too. Uploads that
    insert media rows into the same workspace meanwhile must not deadlock against it."""
    name, api = team
    if with_quota:
        with session_scope(server.state.session_factory) as session:
            WorkspaceService(session).set_quota(name, 10**9)
    photo = (files / "photo.jpg").read_bytes()

    def signed(n: int) -> int:
        upload = request_upload(api, filename=f"s{n}.jpg")
        put_bytes(upload, photo + n.to_bytes(4, "big"))
        return api.post(f"/v1/media/{upload['id']}/confirm").status_code

    def direct(n: int) -> int:
        data = photo + (10_000 + n).to_bytes(4, "big")
        return api.post("/v1/media", files={"file": (f"d{n}.jpg", data, "image/jpeg")}).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda n: (signed if n % 2 else direct)(n), range(36)))
    assert sorted(set(statuses)) == [200, 201] and statuses.count(503) == 0
    assert api.get("/v1/usage").json()["media_count"] == 36
