"""The `medialib` command line, run as a real process."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

from tests.conftest import RunningServer
from tests.processes import MEDIALIB, env_for


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MEDIALIB, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_keys_create_prints_a_working_key_as_its_last_line(server: RunningServer) -> None:
    env = env_for(server.settings.resolved_data_dir, server.settings.resolved_database_url)
    result = _run(env, "keys", "create", "--workspace", "cli-team")
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip().splitlines()[-1]
    assert key.startswith("mlk_")
    listed = httpx.get(f"{server.base_url}/v1/media", headers={"Authorization": f"Bearer {key}"})
    assert listed.status_code == 200
    revoked = _run(env, "keys", "revoke", key)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    after = httpx.get(f"{server.base_url}/v1/media", headers={"Authorization": f"Bearer {key}"})
    assert after.status_code == 401


def test_upload_command_uploads_files_in_parallel_and_prints_ids(
    server: RunningServer, api_key: str, files: Path
) -> None:
    env = env_for(server.settings.resolved_data_dir, server.settings.resolved_database_url)
    env.update(MEDIALIB_API_KEY=api_key, MEDIALIB_URL=server.base_url)
    result = _run(
        env,
        "upload",
        str(files / "photo.jpg"),
        str(files / "clip.mp4"),
        "--tag",
        "cli",
        "--description",
        "From CLI",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    ids = [line.split("\t")[1] for line in result.stdout.splitlines() if "\tmed_" in line]
    assert len(ids) == 2
    api = httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {api_key}"})
    for media_id in ids:
        media = api.get(f"/v1/media/{media_id}").json()
        assert media["tags"] == ["cli"] and media["description"] == "From CLI"


def test_upload_command_reports_refusals_and_exits_nonzero(
    server: RunningServer, api_key: str, files: Path
) -> None:
    env = env_for(server.settings.resolved_data_dir, server.settings.resolved_database_url)
    env.update(MEDIALIB_API_KEY=api_key, MEDIALIB_URL=server.base_url)
    result = _run(env, "upload", str(files / "page.html"))
    assert result.returncode == 1
    missing = _run(env, "upload", str(files / "nope.jpg"))
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_db_upgrade_and_gc_run(tmp_path: Path) -> None:
    env = env_for(tmp_path, f"sqlite:///{tmp_path / 'm.db'}")
    upgrade = _run(env, "db", "upgrade")
    assert upgrade.returncode == 0 and "up to date" in upgrade.stdout
    gc = _run(env, "gc")
    assert gc.returncode == 0 and "abandoned_uploads" in gc.stdout
