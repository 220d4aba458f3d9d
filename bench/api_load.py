"""The API under concurrent load, against baselines measured in the same run.

- `GET /v1/media/{id}` at 16 and 64 clients (wrk) on SQLite and PostgreSQL, against (a) a
  bare FastAPI JSON route and (b) a minimal FastAPI app doing the same work (key lookup,
  one indexed row read, the same JSON) on the same database (`baseline_apps.py`).
- A concurrency ladder, 1 → 128 clients, on both databases: requests a second, non-2xx
  answers, and `/healthz` latency (curl, in a process of its own) at each step.
- 200 small uploads (request → PUT → confirm) from 16 clients, against a lean app doing
  the same three steps with the same database rows, SHA-256 and fsync (`baseline_apps.steps`).

Every server is its own process (one uvicorn worker, the same protocol settings).
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg

PG_ADMIN = os.environ.get("MEDIALIB_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
DURATION = 8


def _port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str) -> None:
    for _ in range(200):
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} never answered")


def _start(command: list[str], env: dict[str, str], probe: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    _wait(probe)
    return process


def _medialib(folder: Path, database: str) -> tuple[subprocess.Popen[bytes], str, str]:
    port = _port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIALIB_")}
    env.update(
        MEDIALIB_DATA_DIR=str(folder),
        MEDIALIB_DATABASE_URL=database,
        MEDIALIB_RATE_LIMIT_PER_MINUTE="0",
    )
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "medialib.cli", "serve", "--port", str(port)]
    process = _start(command, env, f"{url}/healthz")
    created = subprocess.run(
        [sys.executable, "-m", "medialib.cli", "keys", "create", "--workspace", "bench"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return process, url, created.stdout.strip().splitlines()[-1]


def _baseline(kind: str, database: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "bench.baseline_apps", kind, database, str(port)]
    return _start(command, dict(os.environ), f"{url}/openapi.json"), url


def _wrk(url: str, clients: int, key: str) -> dict[str, float]:
    answer = subprocess.run(
        [
            "wrk",
            f"-t{min(2, clients)}",
            f"-c{clients}",
            f"-d{DURATION}s",
            "--latency",
            "-H",
            f"Authorization: Bearer {key}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", answer).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"99%\s+([\d.]+\w+)", answer).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", answer)
    errors = re.search(r"Socket errors: .*timeout (\d+)", answer)
    return {
        "rps": rps,
        "p99_ms": p99,
        "non_2xx": float(bad.group(1)) if bad else 0.0,
        "timeouts": float(errors.group(1)) if errors else 0.0,
    }


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _health_during(url: str, seconds: float) -> list[tuple[float, float]]:
    """Probes of /healthz every 0.2 s from now: (seconds since the first, milliseconds)."""
    times: list[tuple[float, float]] = []
    started = time.monotonic()
    deadline = started + seconds
    while time.monotonic() < deadline:
        sent = time.monotonic() - started
        answer = subprocess.run(
            ["curl", "-s", "-o", "/dev/null", "-m", "10", "-w", "%{time_total}", f"{url}/healthz"],
            capture_output=True,
            text=True,
            check=False,
        )
        times.append((sent, float(answer.stdout or 10) * 1000))
        time.sleep(0.2)
    return times


def _media(url: str, key: str) -> str:
    import pyvips

    image = (pyvips.Image.black(64, 48, bands=3) + 90).cast("uchar").jpegsave_buffer()
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as api:
        created = api.post("/v1/media", files={"file": ("p.jpg", image, "image/jpeg")})
        return str(created.json()["id"])


def _uploads(url: str, key: str, *, bare: bool, count: int = 200, clients: int = 16) -> float:
    import pyvips

    image = (pyvips.Image.black(64, 48, bands=3) + 90).cast("uchar").jpegsave_buffer()

    def one(number: int) -> None:
        # One connection for the three steps, as any client would keep; the key goes to
        # the API only, never to the upload URL (which may be a bucket's).
        auth = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=url, timeout=60) as client:
            data = image + number.to_bytes(4, "big")
            if bare:
                made = client.post("/upload", headers=auth).json()
                client.put(made["upload_url"], content=data).raise_for_status()
                client.post(f"/confirm/{made['id']}", headers=auth).raise_for_status()
                return
            made = client.post(
                "/v1/media/upload", json={"filename": f"{number}.jpg"}, headers=auth
            ).json()
            client.put(made["upload_url"], content=data, headers=made["headers"]).raise_for_status()
            client.post(f"/v1/media/{made['id']}/confirm", headers=auth).raise_for_status()

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(one, range(count)))
    return count / (time.monotonic() - started)


def _database(backend: str, folder: Path) -> tuple[str, str | None]:
    if backend == "sqlite":
        return f"sqlite:///{folder / 'medialib.db'}", None
    name = f"medialib_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return f"{base}/{name}", name


def _drop(name: str | None) -> None:
    if name:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _get_rows(backend: str, folder: Path) -> tuple[list[str], dict[str, float]]:
    database, name = _database(backend, folder)
    server, url, key = _medialib(folder, database)
    bare, bare_url = _baseline("bare", database)
    minimal, minimal_url = _baseline("minimal", database.replace("+psycopg", "+psycopg"))
    figures: dict[str, float] = {}
    rows = []
    try:
        media_id = _media(url, key)
        for clients in (16, 64):
            ours = _wrk(f"{url}/v1/media/{media_id}", clients, key)
            plain = _wrk(f"{bare_url}/v1/media/{media_id}", clients, key)
            lean = _wrk(f"{minimal_url}/v1/media/{media_id}", clients, key)
            figures[f"{backend}-{clients}-vs-bare"] = ours["rps"] / plain["rps"]
            figures[f"{backend}-{clients}-vs-minimal"] = ours["rps"] / lean["rps"]
            figures[f"{backend}-{clients}-p99"] = ours["p99_ms"]
            rows.append(
                f"| {backend} | {clients} | {ours['rps']:.0f} (p99 {ours['p99_ms']:.0f} ms,"
                f" {ours['non_2xx']:.0f} non-2xx) | {plain['rps']:.0f} | {lean['rps']:.0f}"
                f" (p99 {lean['p99_ms']:.0f} ms) | {ours['rps'] / plain['rps']:.2f}×"
                f" | {ours['rps'] / lean['rps']:.2f}× |"
            )
            print(rows[-1], flush=True)
        steps, steps_url = _baseline("steps", database)
        try:
            ours_up = _uploads(url, key, bare=False)
            bare_up = _uploads(steps_url, key, bare=True)
        finally:
            steps.terminate()
            steps.wait(10)
        figures[f"{backend}-uploads"] = ours_up / bare_up
        rows.append(
            f"| {backend} | 200 uploads, 16 clients | {ours_up:.0f} uploads/s | "
            f"{bare_up:.0f} (lean three steps: rows, SHA-256, fsync) | – | {ours_up / bare_up:.2f}× | – |"
        )
        print(rows[-1], flush=True)
    finally:
        for process in (server, bare, minimal):
            process.terminate()
            process.wait(10)
        _drop(name)
    return rows, figures


def _ladder(backend: str, folder: Path) -> list[str]:
    database, name = _database(backend, folder)
    server, url, key = _medialib(folder, database)
    rows = []
    try:
        media_id = _media(url, key)
        for clients in (1, 4, 16, 32, 64, 128):
            health: list[tuple[float, float]] = []
            watcher = threading.Thread(
                target=lambda found=health: found.extend(_health_during(url, DURATION - 1))
            )
            watcher.start()
            ours = _wrk(f"{url}/v1/media/{media_id}", clients, key)
            watcher.join()
            rows.append(
                f"| {backend} | {clients} | {ours['rps']:.0f} | {ours['p99_ms']:.0f} ms |"
                f" {ours['non_2xx']:.0f} | {ours['timeouts']:.0f} |"
                f" {statistics.median(ms for _, ms in health):.0f} ms"
                f" / {max(ms for at, ms in health if at >= 1):.0f} ms"
                f" / {max(ms for at, ms in health if at < 1):.0f} ms |"
            )
            print(rows[-1], flush=True)
    finally:
        server.terminate()
        server.wait(10)
        _drop(name)
    return rows


def run() -> str:
    rows: list[str] = []
    figures: dict[str, float] = {}
    for backend in ("sqlite", "postgresql"):
        with tempfile.TemporaryDirectory(prefix=f"medialib-load-{backend}-") as work:
            more, found = _get_rows(backend, Path(work))
            rows += more
            figures.update(found)
    ladder: list[str] = []
    for backend in ("sqlite", "postgresql"):
        with tempfile.TemporaryDirectory(prefix=f"medialib-ladder-{backend}-") as work:
            ladder += _ladder(backend, Path(work))
    return "\n".join(
        [
            "## API under concurrent load (`bench/api_load.py`)",
            "",
            f"wrk, {DURATION} s per figure, every server its own process on loopback.",
            "",
            "| database | clients | medialib req/s | (a) bare FastAPI | (b) minimal app, same"
            " work | vs (a) | vs (b) |",
            "|---|---|---|---|---|---|---|",
            *rows,
            "",
            "Goals: ≥ 0.7× (b) and ≥ 0.25× (a), p99 under 100 ms at 16 clients; uploads ≥ 0.7×"
            " the lean three steps (the same rows, SHA-256 and fsync; `baseline_apps.steps`).",
            "",
            "Concurrency ladder, `GET /v1/media/{id}` (SQLite is the embedded default):",
            "",
            "| database | clients | req/s | p99 | non-2xx (503 past the in-flight bound) |"
            " time-outs | /healthz median / worst / worst in the first second |",
            "|---|---|---|---|---|---|---|",
            *ladder,
            "",
            "`/healthz` is probed by curl every 0.2 s from the moment wrk starts: its worst"
            " is given apart for the first second, while wrk opens all its connections at"
            " once and every request they send is ahead of the probe.",
            "",
        ]
    )
