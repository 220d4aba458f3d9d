"""Shared fixtures: a real medialib server on loopback, once per database backend.

Every API test runs against SQLite and against PostgreSQL (127.0.0.1:5432, user postgres).
Without PostgreSQL the PostgreSQL half is skipped on a laptop, and fails in CI (CI=true).
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn

from medialib.app import create_app
from medialib.config import Settings
from medialib.db import session_scope
from medialib.deps import AppState
from medialib.server import uvicorn_config
from medialib.workspaces.keys import create_key

PG_ADMIN_DSN = os.environ.get("MEDIALIB_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards."""
    name = f"medialib_test_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI and did not answer: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The PostgreSQL database of the shared test server (one per run)."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def own_postgres_url() -> Iterator[str]:
    """A database of the test's own, for tests that run workers of their own: the shared
    server's workers poll the shared database's job table and would take their jobs."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The Redis on 127.0.0.1:6379 (required in CI); tests isolate by key namespace."""
    import redis

    url = os.environ.get("MEDIALIB_TEST_REDIS", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        if IN_CI:
            pytest.fail(f"Redis is required in CI and did not answer: {exc}")
        pytest.skip(f"Redis not reachable: {exc}")
    yield url


@pytest.fixture
def rabbitmq_url() -> Iterator[str]:
    """The RabbitMQ on 127.0.0.1:5672 (required in CI); tests isolate by queue prefix."""
    import pika

    url = os.environ.get("MEDIALIB_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672/%2F")
    try:
        pika.BlockingConnection(pika.URLParameters(url)).close()
    except pika.exceptions.AMQPError as exc:
        if IN_CI:
            pytest.fail(f"RabbitMQ is required in CI and did not answer: {exc}")
        pytest.skip(f"RabbitMQ not reachable: {exc}")
    yield url


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An S3 endpoint on loopback: LocalStack's S3, which enforces signatures
    (tests/s3server.py)."""
    from tests import s3server

    if not s3server.available():
        if IN_CI:
            pytest.fail("LocalStack is required in CI: scripts/test installs it")
        pytest.skip("LocalStack is not installed (scripts/test installs it)")
    os.environ["AWS_ACCESS_KEY_ID"] = s3server.ACCESS_KEY
    os.environ["AWS_SECRET_ACCESS_KEY"] = s3server.SECRET_KEY
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    server = s3server.LocalStack(tmp_path_factory.mktemp("localstack"), free_port())
    server.start()
    yield server.endpoint
    server.stop()


@pytest.fixture(scope="session")
def pds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Bluesky's reference PDS on loopback, one for the run (tests/bluesky/pds.py)."""
    from tests.bluesky import pds as bluesky_pds

    if not bluesky_pds.available():
        if IN_CI:
            pytest.fail("Bluesky's reference PDS is required in CI: scripts/test installs it")
        pytest.skip("the reference PDS is not installed (scripts/test installs it into .pds/)")
    server = bluesky_pds.Pds(tmp_path_factory.mktemp("pds"), free_port(), free_port())
    server.start()
    yield server
    server.stop()


def new_bucket(endpoint: str) -> str:
    """A fresh bucket; its `MEDIALIB_STORAGE_URL`."""
    import boto3

    name = f"medialib-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=name)
    return f"s3://{name}?endpoint_url={endpoint}&region=us-east-1"


def database_url_for(backend: str, request: pytest.FixtureRequest, data_dir: Path) -> str:
    """The shared server's database URL for `backend`."""
    if backend == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{data_dir / 'medialib.db'}"


def own_database_url(backend: str, request: pytest.FixtureRequest, data_dir: Path) -> str:
    """A database no other test uses, for `backend`."""
    if backend == "postgresql":
        return str(request.getfixturevalue("own_postgres_url"))
    return f"sqlite:///{data_dir / 'own.db'}"


@dataclass
class RunningServer:
    base_url: str
    state: AppState
    backend: str

    @property
    def settings(self) -> Settings:
        return self.state.settings

    def new_key(self, workspace: str | None = None) -> str:
        with session_scope(self.state.session_factory) as session:
            return create_key(
                session, workspace_name=workspace or f"ws-{uuid.uuid4().hex[:8]}"
            ).plaintext

    @contextmanager
    def client(self, workspace: str | None = None) -> Iterator[httpx.Client]:
        """An API client with a key of a fresh workspace (or of `workspace`)."""
        headers = {"Authorization": f"Bearer {self.new_key(workspace)}"}
        with httpx.Client(base_url=self.base_url, headers=headers, timeout=60) as client:
            yield client


def start_server(
    settings: Settings, backend: str
) -> tuple[RunningServer, uvicorn.Server, threading.Thread]:
    port = int(str(settings.public_url).rsplit(":", 1)[1])
    app = create_app(settings)
    config = uvicorn_config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        header_seconds=settings.http_header_seconds,
        body_window_seconds=settings.http_body_window_seconds,
        trusted_proxies=settings.trusted_proxies,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    return RunningServer(str(settings.public_url), app.state.medialib, backend), server, thread


@contextmanager
def running_server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    backend: str,
    **overrides: Any,
) -> Iterator[RunningServer]:
    """A medialib server with embedded workers on a free loopback port."""
    data_dir = tmp_path_factory.mktemp(f"data-{backend}")
    defaults: dict[str, Any] = {
        "database_url": database_url_for(backend, request, data_dir),
        "public_url": f"http://127.0.0.1:{free_port()}",
        "job_poll_seconds": 0.2,
        "job_retry_base_seconds": 0.1,
        "worker_threads": 2,
        # On, but never reached by the suite's own traffic (tests/guards/ tests the limits).
        "rate_limit_per_minute": 100_000,
    }
    settings = Settings(data_dir=data_dir, **{**defaults, **overrides})
    running, uvicorn_server, thread = start_server(settings, backend)
    try:
        yield running
    finally:
        uvicorn_server.should_exit = True
        thread.join(15)


@contextmanager
def isolated_server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    backend: str,
    **overrides: Any,
) -> Iterator[RunningServer]:
    """A server with a database of its own: for servers whose jobs other servers' workers
    (with other settings) must not take."""
    with ExitStack() as stack:
        if backend == "postgresql":
            database = stack.enter_context(fresh_postgres_database())
        else:
            database = f"sqlite:///{tmp_path_factory.mktemp('own-db') / 'own.db'}"
        yield stack.enter_context(
            running_server(request, tmp_path_factory, backend, database_url=database, **overrides)
        )


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    with running_server(request, tmp_path_factory, request.param) as running:
        yield running


@pytest.fixture
def api_key(server: RunningServer) -> str:
    """A key of a fresh workspace, so tests never see each other's media."""
    return server.new_key()


@pytest.fixture
def api(server: RunningServer, api_key: str) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=60
    ) as client:
        yield client


@pytest.fixture
def anon(server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=60) as client:
        yield client


@pytest.fixture(scope="session")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of real media made once per run (see tests/mediafiles.py)."""
    from tests import mediafiles

    folder = tmp_path_factory.mktemp("media")
    mediafiles.jpeg(folder / "photo.jpg", 64, 48)
    mediafiles.jpeg(folder / "rotated.jpg", 64, 48, orientation=6)
    mediafiles.png(folder / "alpha.png", alpha=True)
    mediafiles.webp(folder / "image.webp")
    mediafiles.gif(folder / "anim.gif", frames=3)
    mediafiles.png_bomb(folder / "bomb.png")
    mediafiles.video(folder / "clip.mp4", seconds=1.0)
    mediafiles.video(folder / "clip.mov", seconds=0.5, container="mov")
    mediafiles.video(folder / "clip.webm", seconds=0.5, codec="libvpx-vp9", container="webm")
    mediafiles.audio(folder / "tone.m4a", seconds=1.0, container="ipod")
    mediafiles.wav(folder / "tone.wav", seconds=0.5)
    mediafiles.pdf(folder / "doc.pdf", pages=3)
    mediafiles.docx(folder / "letter.docx")
    mediafiles.pptx(folder / "deck.pptx")
    mediafiles.jpeg_with_gps(folder / "gps.jpg", 64, 48, orientation=6)
    mediafiles.heic(folder / "photo.heic", 64, 48)
    mediafiles.video(folder / "clip.mkv", seconds=0.5, container="matroska")
    mediafiles.video(folder / "clip.avi", seconds=0.5, codec="mpeg4", container="avi")
    mediafiles.audio(folder / "tone.mp3", seconds=1.0, codec="libmp3lame", container="mp3")
    mediafiles.video(
        folder / "split.mp4", seconds=1.0, width=160, height=96, split=True, audio=False
    )
    mediafiles.rotated(folder / "split.mp4", folder / "portrait.mov", degrees=90)
    (folder / "corrupt.pdf").write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 4)
    mediafiles.png_with_broken_pixels(folder / "broken-pixels.png")
    large = mediafiles.jpeg(folder / "large.jpg", 640, 480).read_bytes()
    (folder / "truncated.jpg").write_bytes(large[: len(large) * 2 // 3])
    jpeg_bytes = (folder / "photo.jpg").read_bytes()
    (folder / "corrupt.jpg").write_bytes(jpeg_bytes[:200] + bytes(400))
    data = (folder / "clip.mp4").read_bytes()
    (folder / "truncated.mp4").write_bytes(data[: len(data) // 3])
    (folder / "page.html").write_bytes(b"<html><script>alert(1)</script></html>")
    (folder / "playlist.m3u8").write_bytes(b"#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n")
    return folder
