"""Exactly once through crashes, catch-up after downtime, and the network's own refusals
and "later"s, against the reference PDS and real `medialib serve` processes."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests import mediafiles
from tests.bluesky.pds import Pds
from tests.conftest import RunningServer, isolated_server, own_database_url
from tests.helpers import eventually
from tests.processes import MEDIALIB, ServeProcess, env_for
from tests.publishing.conftest import bluesky_account, ready_media, schedule, settled


def _new_key(env: dict[str, str]) -> str:
    result = subprocess.run(
        [*MEDIALIB, "keys", "create", "--workspace", f"pub-{uuid.uuid4().hex[:8]}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def _serve_env(tmp_path: Path, database_url: str, **extra: str) -> dict[str, str]:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    return env_for(
        data,
        database_url,
        MEDIALIB_ALLOW_LOOPBACK_TARGETS="1",
        MEDIALIB_IMPORT_ALLOW_HTTP="1",
        MEDIALIB_JOB_LEASE_SECONDS="2",
        MEDIALIB_JOB_POLL_SECONDS="0.2",
        MEDIALIB_JOB_RETRY_BASE_SECONDS="0.2",
        **extra,
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_killed_after_the_network_said_yes_publishes_exactly_once(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str, pds: Pds, files: Path
) -> None:
    database = own_database_url(backend, request, tmp_path)
    crashing = _serve_env(tmp_path, database, MEDIALIB_FAULT_PUBLISH_CRASH="1")
    server = ServeProcess(crashing)
    key = _new_key(crashing)
    headers = {"Authorization": f"Bearer {key}"}
    try:
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=60) as api:
            account, owner = bluesky_account(api, pds)
            photo = ready_media(api, files / "photo.jpg", description="once")
            post = schedule(
                api,
                text="Exactly once",
                targets=[{"platform": "bluesky", "account_id": account["id"]}],
                media=[{"media_id": photo["id"]}],
            )
        # The record is made, then the process dies before it can write that down.
        server.process.wait(60)
        assert len(pds.records(owner.did)) == 1
    finally:
        server.stop()
    restarted = ServeProcess({k: v for k, v in crashing.items() if "FAULT" not in k})
    try:
        with httpx.Client(base_url=restarted.base_url, headers=headers, timeout=60) as api:
            done = settled(api, post["id"], timeout=90)
        assert done["status"] == "published"
        [record] = pds.records(owner.did)
        assert record["uri"] == done["targets"][0]["remote_id"]
    finally:
        restarted.stop()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_posts_due_while_down_go_out_oldest_first_and_too_late_ones_are_missed(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str, pds: Pds
) -> None:
    database = own_database_url(backend, request, tmp_path)
    # One publishing thread: the order they go out in is then the order they are taken in
    # (with more, both are taken oldest first but may finish a few ms apart either way).
    env = _serve_env(
        tmp_path,
        database,
        MEDIALIB_PUBLISH_MAX_LATENESS="20s",
        MEDIALIB_QUEUE_THREADS='{"publish": 1}',
    )
    server = ServeProcess(env)
    key = _new_key(env)
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=60) as api:
        bluesky_account(api, pds)
        now = dt.datetime.now(dt.UTC)
        posts = []
        for n, ahead in enumerate((3.0, 2.0)):  # the second falls due first
            at = (now + dt.timedelta(seconds=ahead)).isoformat()
            answer = api.post(
                "/v1/posts",
                json={"text": f"due {n}", "targets": [{"platform": "bluesky"}], "scheduled_at": at},
            )
            posts.append(answer.json())
    server.kill()  # down before either is due
    time.sleep(3.5)  # both fall due while nothing runs (lateness is measured in real time)
    late = ServeProcess(env)
    try:
        with httpx.Client(base_url=late.base_url, headers=headers, timeout=60) as api:
            first, second = (settled(api, p["id"]) for p in posts)
        assert first["status"] == second["status"] == "published"
        assert second["targets"][0]["published_at"] < first["targets"][0]["published_at"]
    finally:
        late.stop()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_post_later_than_the_lateness_fails_missed(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    backend: str,
    pds: Pds,
) -> None:
    with (
        isolated_server(
            request,
            tmp_path_factory,
            backend,
            allow_loopback_targets=True,
            import_allow_http=True,
            worker_threads=0,  # nothing publishes while the post falls due
        ) as server,
        server.client() as api,
    ):
        bluesky_account(api, pds)
        post = schedule(api, text="Too late", targets=[{"platform": "bluesky"}])
        _run_jobs_later(server, seconds_late=7200)
        done = api.get(f"/v1/posts/{post['id']}").json()
        assert done["status"] == "failed"
        assert done["targets"][0]["error"]["code"] == "missed"


def _run_jobs_later(server: RunningServer, *, seconds_late: float) -> None:
    """Run the server's due jobs as a worker whose clock is `seconds_late` past now."""
    from medialib import clock
    from medialib.jobs.runner import EmbeddedRunner
    from medialib.tasks import load_handlers

    runner = EmbeddedRunner(server.state.runtime, load_handlers(), queue_threads={})
    with clock.shifted(dt.timedelta(seconds=seconds_late)):
        eventually(runner.run_until_idle, what="a job to run")


class _Network:
    """A stand-in for a network that answers every call with one status (no real server
    here can be made to answer 503 or 429 on demand)."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
        self.calls: list[str] = []
        network = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                network.calls.append(self.path)
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                payload = json.dumps(body).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                self._answer()

            def do_POST(self) -> None:
                self._answer()

            def log_message(self, *_: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def busy_network() -> Iterator[_Network]:
    network = _Network(
        503, {"error": "UpstreamFailure", "message": "try later"}, {"retry-after": "1"}
    )
    yield network
    network.close()


def test_a_network_that_keeps_saying_later_is_retried_then_fails_retryable(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    pds: Pds,
    busy_network: _Network,
) -> None:
    with (
        isolated_server(
            request,
            tmp_path_factory,
            "sqlite",
            allow_loopback_targets=True,
            import_allow_http=True,
            publish_max_attempts=3,
        ) as server,
        server.client() as api,
    ):
        account, _ = bluesky_account(api, pds)
        # The account's server goes away: every call now answers 503 with Retry-After: 1.
        from medialib.accounts.models import Account

        with server.state.session_factory() as session:
            row = session.get(Account, account["id"])
            assert row is not None
            row.service_url = busy_network.url  # edited: no API points an account elsewhere
            session.commit()  # without checking it first
        post = schedule(api, text="Busy", targets=[{"platform": "bluesky"}])
        done = settled(api, post["id"])
        target = done["targets"][0]
        assert done["status"] == "failed" and target["attempts"] == 3
        assert target["error"]["retryable"] is True
        assert target["error"]["network_answer"] == "UpstreamFailure: try later"


def test_a_file_the_network_refuses_fails_with_its_own_words(
    request: pytest.FixtureRequest, tmp_path: Path, pds: Pds
) -> None:
    """A test-only rules file says Bluesky takes 10 MB images; the PDS says otherwise."""
    packaged = resources.files("medialib.platforms").joinpath("platforms.yaml").read_text()
    data = yaml.safe_load(packaged)
    data["bluesky"]["image"]["max_file_bytes"] = 10_000_000
    rules_file = tmp_path / "platforms.yaml"
    rules_file.write_text(yaml.safe_dump(data))
    database = own_database_url("sqlite", request, tmp_path)
    env = _serve_env(tmp_path, database, MEDIALIB_PLATFORMS_FILE=str(rules_file))
    server = ServeProcess(env)
    try:
        key = _new_key(env)
        with httpx.Client(
            base_url=server.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60
        ) as api:
            bluesky_account(api, pds)
            big = mediafiles.noisy_jpeg(tmp_path / "big.jpg", 2600, 2000)
            assert big.stat().st_size > 2_000_000
            photo = ready_media(api, big, description="too big for Bluesky")
            post = schedule(
                api,
                text="Big",
                targets=[{"platform": "bluesky"}],
                media=[{"media_id": photo["id"]}],
            )
            done = settled(api, post["id"])
        target = done["targets"][0]
        assert done["status"] == "failed" and target["error"]["retryable"] is False
        # The PDS's own words, word for word, as it checked the record at createRecord.
        said = target["error"]["network_answer"]
        assert said.startswith("InvalidRequest: Invalid app.bsky.feed.post record: blob too big")
        assert target["error"]["message"].endswith(said)
    finally:
        server.stop()
