"""Under load the service keeps answering: reads never wait for a writer on SQLite,
many concurrent clients all get answers, and /healthz answers at once throughout."""

from __future__ import annotations

import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.conftest import RunningServer, running_server
from tests.helpers import upload_file
from tests.processes import ServeProcess, env_for


@pytest.fixture(scope="module")
def busy(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    with running_server(request, tmp_path_factory, "sqlite", max_concurrent_requests=48) as server:
        yield server


def test_reads_do_not_wait_for_a_writer(busy: RunningServer, files: Path) -> None:
    with busy.client() as api:
        media = upload_file(api, files / "photo.jpg")
        api.get(f"/v1/media/{media['id']}")  # the key is verified once
        database = busy.settings.resolved_database_url.removeprefix("sqlite:///")
        writer = sqlite3.connect(database, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")  # someone holds the write lock for a while
        try:
            started = time.monotonic()
            answers = [api.get(f"/v1/media/{media['id']}") for _ in range(5)]
            listing = api.get("/v1/media", params={"q": "photo"})
            elapsed = time.monotonic() - started
        finally:
            writer.execute("ROLLBACK")
            writer.close()
    assert {answer.status_code for answer in answers} == {200} and listing.status_code == 200
    assert elapsed < 2.0  # not 30 s of busy time-out per request


def test_many_clients_all_get_answers_and_health_answers_at_once(
    tmp_path: Path, files: Path
) -> None:
    """Against `medialib serve` as its own process (clients in this process would share
    its interpreter lock and slow it down themselves)."""
    env = env_for(
        tmp_path, f"sqlite:///{tmp_path / 'load.db'}", MEDIALIB_MAX_CONCURRENT_REQUESTS="48"
    )
    server = ServeProcess(env)
    try:
        key = (tmp_path / "first-api-key.txt").read_text().strip()
        _hammer(server.base_url, key, files)
    finally:
        server.stop()


def _hammer(base_url: str, key: str, files: Path) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as api:
        media_id = upload_file(api, files / "photo.jpg")["id"]
        statuses: list[int] = []
        health: list[float] = []
        stop = threading.Event()

        def watch_health() -> None:
            # curl, in a process of its own: the 64 client threads here would otherwise
            # slow down the measuring itself.
            while not stop.is_set():
                answer = subprocess.run(
                    [
                        "curl",
                        "-s",
                        "-o",
                        "/dev/null",
                        "-w",
                        "%{http_code} %{time_total}",
                        f"{base_url}/healthz",
                    ],
                    capture_output=True,
                    text=True,
                    timeout=10,
                    check=True,
                )
                status, seconds = answer.stdout.split()
                assert status == "200"
                health.append(float(seconds))
                time.sleep(0.05)

        def client(_: int) -> None:
            with httpx.Client(base_url=base_url, headers=headers, timeout=30) as own:
                for _ in range(15):
                    answer = own.get(f"/v1/media/{media_id}")
                    statuses.append(answer.status_code)
                    if answer.status_code == 503:
                        assert int(answer.headers["Retry-After"]) >= 1

        watcher = threading.Thread(target=watch_health)
        watcher.start()
        try:
            with ThreadPoolExecutor(max_workers=64) as pool:
                list(pool.map(client, range(64)))
        finally:
            stop.set()
            watcher.join()
    assert set(statuses) <= {200, 503} and statuses.count(200) >= len(statuses) // 2
    assert max(health) < 1.0
