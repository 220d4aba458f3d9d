"""Deleting a workspace (a cancelled account): its keys stop working at once, its media
goes to the trash, and gc purges it, bytes and all, when the trash's 30 days are over."""

from __future__ import annotations

import datetime as dt
import subprocess
import uuid
from pathlib import Path

from medialib import clock
from medialib.gc import collect_garbage
from medialib.media.models import Media, MediaStatus
from tests.conftest import RunningServer
from tests.helpers import upload_file
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
