"""Kill -9 the server in the middle of work: nothing partial is ever visible, and work in
flight finishes after a restart."""

from __future__ import annotations

import contextlib
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import own_database_url
from tests.helpers import error_of, put_bytes, request_upload, wait_settled
from tests.processes import MEDIALIB, ServeProcess, env_for


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return own_database_url(request.param, request, tmp_path)


def _new_key(env: dict[str, str]) -> str:
    result = subprocess.run(
        [*MEDIALIB, "keys", "create", "--workspace", f"crash-{uuid.uuid4().hex[:8]}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "data"
    folder.mkdir()
    yield folder


def test_kill_during_put_leaves_nothing_visible_and_upload_can_be_retried(
    data_dir: Path, database_url: str, files: Path
) -> None:
    env = env_for(data_dir, database_url)
    server = ServeProcess(env)
    try:
        key = _new_key(env)
        with httpx.Client(
            base_url=server.base_url, headers={"Authorization": f"Bearer {key}"}
        ) as api:
            upload = request_upload(api, filename="big.mp4")
            sent = threading.Event()

            def slow_body() -> Iterator[bytes]:
                yield (files / "clip.mp4").read_bytes()
                for _ in range(200):
                    yield bytes(256 * 1024)
                    sent.set()
                    time.sleep(0.01)

            def send() -> None:
                with contextlib.suppress(httpx.TransportError):
                    httpx.put(
                        upload["upload_url"],
                        content=slow_body(),
                        headers=upload["headers"],
                        timeout=30,
                    )

            sender = threading.Thread(target=send)
            sender.start()
            assert sent.wait(10)
            time.sleep(0.3)
            server.kill()
            sender.join(30)
    finally:
        server.stop()

    restarted = ServeProcess(env, port=server.port)
    try:
        with httpx.Client(
            base_url=restarted.base_url, headers={"Authorization": f"Bearer {key}"}
        ) as api:
            assert api.get(f"/v1/media/{upload['id']}").json()["status"] == "pending_upload"
            assert (
                error_of(api.post(f"/v1/media/{upload['id']}/confirm"))["code"] == "upload_missing"
            )
            objects = [
                p
                for p in (data_dir / "objects").rglob("*")
                if p.is_file() and ".tmp" not in p.parts
            ]
            assert not [p for p in objects if p.name == "original"]
            # The same signed URL still works for a complete retry.
            assert put_bytes(upload, (files / "clip.mp4").read_bytes()).status_code == 200
            confirmed = api.post(f"/v1/media/{upload['id']}/confirm").json()
            assert wait_settled(api, confirmed["id"])["status"] == "ready"
    finally:
        restarted.stop()


def test_kill_during_a_job_then_restart_finishes_the_job(
    data_dir: Path, database_url: str, files: Path
) -> None:
    slow = env_for(
        data_dir,
        database_url,
        MEDIALIB_FAULT_JOB_DELAY_SECONDS="30",
        MEDIALIB_JOB_LEASE_SECONDS="2",
    )
    server = ServeProcess(slow)
    try:
        key = _new_key(slow)
        with httpx.Client(
            base_url=server.base_url, headers={"Authorization": f"Bearer {key}"}
        ) as api:
            upload = request_upload(api, filename="clip.mp4")
            assert put_bytes(upload, (files / "clip.mp4").read_bytes()).status_code == 200
            assert api.post(f"/v1/media/{upload['id']}/confirm").json()["status"] == "processing"
            time.sleep(1.0)  # the worker has claimed the job and sleeps inside it
            server.kill()
    finally:
        server.stop()

    normal = env_for(
        data_dir, database_url, MEDIALIB_JOB_LEASE_SECONDS="2", MEDIALIB_JOB_POLL_SECONDS="0.2"
    )
    restarted = ServeProcess(normal, port=server.port)
    try:
        with httpx.Client(
            base_url=restarted.base_url, headers={"Authorization": f"Bearer {key}"}
        ) as api:
            media = wait_settled(api, upload["id"], timeout=30)
            assert media["status"] == "ready", media
            assert media["duration_ms"] and media["metadata"]["codec"] == "h264"
    finally:
        restarted.stop()
