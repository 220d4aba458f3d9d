"""docs/deploy.md, followed as written: the sample's `export` lines and commands are read
from the guide itself, pointed at a local PostgreSQL (a fresh database), LocalStack's S3
(a new bucket name) and Redis, and run: `medialib storage init`, two API processes on
one public URL, two workers, `medialib keys create`, an upload through one API process
and its confirm through the other, variants made by the workers, and `medialib gc`.
ClamAV is left out here (tests/scanning runs a real daemon); hosts are loopback only."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests import mediafiles
from tests.conftest import free_port, fresh_postgres_database
from tests.helpers import eventually, get_media, wait_variants

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "deploy.md"
MEDIALIB = [sys.executable, "-m", "medialib.cli"]


def _sample() -> tuple[dict[str, str], list[str]]:
    """The guide's complete sample: its exported settings and its commands, in order."""
    text = GUIDE.read_text()
    block = text.split("## A complete sample", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    exported: dict[str, str] = {}
    commands: list[str] = []
    for line in block.splitlines():
        line = line.split("  #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            exported[name] = shlex.split(value)[0]
        else:
            commands.append(line)
    return exported, commands


def test_the_sample_names_every_part() -> None:
    exported, commands = _sample()
    assert {"MEDIALIB_DATABASE_URL", "MEDIALIB_STORAGE_URL", "MEDIALIB_BROKER_URL",
            "MEDIALIB_PUBLIC_URL", "MEDIALIB_DATA_DIR"} <= set(exported)  # fmt: skip
    assert [c.split("medialib ", 1)[1].split()[0] for c in commands] == [
        "storage", "serve", "worker", "gc"
    ]  # fmt: skip
    text = GUIDE.read_text()
    for step in ("Install the command", "Create the database", "Create the bucket"):
        assert step in text, step  # the steps a first deployment would otherwise guess


@pytest.fixture
def settings(
    tmp_path: Path, s3_endpoint: str, redis_url: str
) -> Iterator[tuple[dict[str, str], list[str], list[int]]]:
    """The guide's environment, pointed at the local services."""
    exported, commands = _sample()
    ports = [free_port(), free_port()]
    storage = urlsplit(exported["MEDIALIB_STORAGE_URL"])
    assert storage.scheme == "s3" and {"endpoint_url", "region"} <= set(parse_qs(storage.query))
    with fresh_postgres_database() as database:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIALIB_")}
        env.update(exported)
        env.update(
            MEDIALIB_DATA_DIR=str(tmp_path / "shared"),
            MEDIALIB_DATABASE_URL=database,
            MEDIALIB_STORAGE_URL=(
                f"s3://medialib-{uuid.uuid4().hex[:10]}?endpoint_url={s3_endpoint}&region=us-east-1"
            ),
            MEDIALIB_BROKER_URL=redis_url,
            MEDIALIB_BROKER_NAMESPACE=f"deploy-{uuid.uuid4().hex[:8]}",
            MEDIALIB_PUBLIC_URL=f"http://127.0.0.1:{ports[0]}",  # the balancer's, for both
        )
        env.pop("MEDIALIB_CLAMD_URL")  # scanning: tests/scanning, with a real daemon
        yield env, commands, ports


def _argv(
    command: str, env: dict[str, str], port: int | None = None
) -> tuple[list[str], dict[str, str]]:
    """A guide command as a child process: leading VAR=value pairs into its environment,
    `medialib` as this interpreter's, the address loopback, the port a free one."""
    words = shlex.split(command)
    own = dict(env)
    while re.fullmatch(r"[A-Z_]+=.*", words[0]):
        name, _, value = words.pop(0).partition("=")
        own[name] = value
    assert words[0] == "medialib", command
    words = [*MEDIALIB, *words[1:]]
    if "--host" in words:
        words[words.index("--host") + 1] = "127.0.0.1"
    if "--port" in words and port is not None:
        words[words.index("--port") + 1] = str(port)
    return words, own


def test_the_guide_deploys_two_api_processes_and_two_workers(
    settings: tuple[dict[str, str], list[str], list[int]], tmp_path: Path
) -> None:
    env, commands, ports = settings
    init, serve, worker, gc = commands
    argv, own = _argv(init, env)
    made = subprocess.run(argv, env=own, capture_output=True, text=True, timeout=60, check=True)
    assert "made (private)" in made.stdout and "CORS" in made.stdout
    again = subprocess.run(argv, env=own, capture_output=True, text=True, timeout=60, check=True)
    assert "was there" in again.stdout  # running it again changes nothing
    children: list[subprocess.Popen[bytes]] = []
    try:
        for port in ports:
            argv, own = _argv(serve, env, port)
            children.append(_start(argv, own, tmp_path / f"api-{port}.log"))
        for number in range(2):
            argv, own = _argv(worker, env)
            children.append(_start(argv, own, tmp_path / f"worker-{number}.log"))
        for port in ports:
            _wait_healthy(port)
        created = subprocess.run(
            [*MEDIALIB, "keys", "create", "--workspace", "acme"],
            env=env, capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        key = created.stdout.strip().splitlines()[-1]
        first, second = (
            httpx.Client(base_url=f"http://127.0.0.1:{port}",
                         headers={"Authorization": f"Bearer {key}"}, timeout=60)
            for port in ports
        )  # fmt: skip
        with first, second:
            for api in (first, second):
                checks = api.get("/readyz").json()["checks"]
                assert checks["database"] == checks["storage"] == checks["jobs"] == "ok", checks
            photo = mediafiles.jpeg(tmp_path / "deployed.jpg", 1600, 1200).read_bytes()
            upload = first.post(
                "/v1/media/upload", json={"filename": "deployed.jpg", "size": len(photo)}
            ).json()
            endpoint = parse_qs(urlsplit(env["MEDIALIB_STORAGE_URL"]).query)["endpoint_url"][0]
            assert upload["upload_url"].startswith(endpoint)  # the bytes go to the bucket
            sent = httpx.request(upload["method"], upload["upload_url"], content=photo,
                                 headers=upload["headers"], timeout=60)  # fmt: skip
            assert sent.status_code == 200, sent.text
            confirmed = second.post(f"/v1/media/{upload['id']}/confirm").json()
            assert confirmed["status"] == "ready", confirmed
            assert confirmed["url"].startswith(env["MEDIALIB_PUBLIC_URL"])
            media = eventually(
                lambda: get_media(first, upload["id"]),
                lambda m: m["thumbnail"]["source"] == "generated",  # made by a worker
                timeout=60,
                what="the preview a worker makes",
            )
            variants = wait_variants(second, upload["id"], timeout=120)
            assert variants["variants_status"] == "ready"
            served = httpx.get(media["url"], timeout=30)
            assert served.status_code == 200 and served.content == photo
        argv, own = _argv(gc, env)
        subprocess.run(argv, env=own, capture_output=True, text=True, timeout=120, check=True)
    finally:
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                child.kill()


def _start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)


def _wait_healthy(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the API process on {port} did not start")
