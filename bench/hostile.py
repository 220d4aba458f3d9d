"""Hostile traffic against a real `medialib serve` process: how long other requests wait,
how far the server's memory rises, how many 5xx answers and stray bytes there are.

The server's peak memory is read from its own /proc status (VmHWM, reset before each
case with clear_refs), against its idle size measured in the same run.
"""

from __future__ import annotations

import gzip
import io
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

MB = 1024 * 1024
FLOOD = 45
DEADLINE = 10


class _Origin(BaseHTTPRequestHandler):
    bomb = b""

    def log_message(self, *_: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/bomb":
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Encoding", "gzip, gzip")
            self.send_header("Content-Length", str(len(_Origin.bomb)))
            self.end_headers()
            self.wfile.write(_Origin.bomb)
            return
        try:  # a byte every 0.2 s, for as long as anyone listens
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n\xff\xd8\xff")
            for _ in range(1000):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass


def _gzip_of_zeros(size: int) -> bytes:
    packer = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(MB)
    parts = [packer.compress(b"\xff\xd8\xff")]
    parts += [packer.compress(block) for _ in range(size // MB)]
    return b"".join([*parts, packer.flush()])


def _pptx(entries: int) -> bytes:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("ppt/presentation.xml", "<p/>")
        for number in range(entries):
            archive.writestr(f"ppt/s/{number}", "")
    return data.getvalue()


class _Server:
    def __init__(self, folder: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIALIB_")}
        env.update(
            MEDIALIB_DATA_DIR=str(folder),
            MEDIALIB_ALLOW_LOOPBACK_TARGETS="1",
            MEDIALIB_IMPORT_ALLOW_HTTP="1",
            MEDIALIB_IMPORT_DEADLINE_SECONDS=str(DEADLINE),
            MEDIALIB_RATE_LIMIT_PER_MINUTE="0",
        )
        folder.mkdir(parents=True, exist_ok=True)
        self.log = folder / "serve.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "medialib.cli", "serve", "--port", str(self.port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        for _ in range(100):
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        self.key = (folder / "first-api-key.txt").read_text().strip()

    def peak_reset(self) -> None:
        Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")

    def memory(self, field: str) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        return 0

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.key}"}, timeout=120
        )

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(15)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _case(server: _Server, action: object) -> tuple[object, float]:
    """Run `action`; its result and how far the server's peak memory rose (MB)."""
    server.peak_reset()
    before = server.memory("VmRSS")
    result = action()  # type: ignore[operator]
    return result, (server.memory("VmHWM") - before) / MB


def _flood(server: _Server, origin: str) -> dict[str, object]:
    statuses: list[int] = []

    def slow_import() -> None:
        with server.client() as api:
            answer = api.post("/v1/media/import", json={"url": f"{origin}/slow"})
            statuses.append(answer.status_code)

    threads = [threading.Thread(target=slow_import) for _ in range(FLOOD)]
    for thread in threads:
        thread.start()
    time.sleep(1)
    waits = []
    with server.client() as api:
        for _ in range(40):
            started = time.monotonic()
            httpx.get(f"{server.url}/healthz", timeout=30)
            api.get("/v1/media")
            waits.append(time.monotonic() - started)
            time.sleep(0.1)
    for thread in threads:
        thread.join(120)
    return {
        "waits_ms": [round(w * 1000) for w in sorted(waits)],
        "503": statuses.count(503),
        "502": statuses.count(502),
        "other": len(statuses) - statuses.count(503) - statuses.count(502),
    }


def run(runs: int = 1) -> str:
    with tempfile.TemporaryDirectory(prefix="medialib-hostile-") as work:
        folder = Path(work)
        _Origin.bomb = gzip.compress(_gzip_of_zeros(2 * 1024 * MB))
        origin_server = ThreadingHTTPServer(("127.0.0.1", 0), _Origin)
        threading.Thread(target=origin_server.serve_forever, daemon=True).start()
        origin = f"http://127.0.0.1:{origin_server.server_address[1]}"
        server = _Server(folder / "data")
        try:
            time.sleep(2)
            idle = server.memory("VmRSS") / MB
            flood, flood_mb = _case(server, lambda: _flood(server, origin))
            with server.client() as api:
                bomb, bomb_mb = _case(
                    server, lambda: api.post("/v1/media/import", json={"url": f"{origin}/bomb"})
                )
                keyless, keyless_mb = _case(
                    server,
                    lambda: httpx.post(
                        f"{server.url}/v1/posts",
                        content=_zeros(200 * MB),
                        headers={"Content-Type": "application/json"},
                        timeout=60,
                    ),
                )
                keyed, keyed_mb = _case(
                    server,
                    lambda: api.post(
                        "/v1/posts",
                        content=_zeros(200 * MB),
                        headers={"Content-Type": "application/json"},
                    ),
                )
                deck = _pptx(300_000)
                started = time.monotonic()
                pptx, pptx_mb = _case(
                    server,
                    lambda: api.post(
                        "/v1/media", files={"file": ("deck.pptx", deck, "application/octet-stream")}
                    ),
                )
                pptx_s = time.monotonic() - started
                burst = _burst(server, api, folder)
            log = server.log.read_text()
        finally:
            server.stop()
            origin_server.shutdown()
            origin_server.server_close()
        leftovers = [
            p
            for p in (folder / "data" / "objects" / ".tmp").iterdir()
            if p.name.startswith("upload-")
        ]
    waits = flood["waits_ms"]  # type: ignore[index]
    return f"""## Hostile traffic (`bench/hostile.py`)

One `medialib serve` process, embedded default; its idle size in this run: {idle:.0f} MB.

| case | answers | peak memory above idle |
|---|---|---|
| {FLOOD} imports in parallel from an origin sending a byte every 0.2 s (deadline {DEADLINE} s) | {flood["503"]} × 503 (pool full, `Retry-After`), {flood["502"]} × 502 (deadline), {flood["other"]} other; meanwhile `/healthz` + a GET of another client: median {statistics.median(waits)} ms, worst {max(waits)} ms | {flood_mb:.0f} MB |
| import of a 2 GB `gzip, gzip` bomb ({len(_Origin.bomb) // 1024} KB on the wire) | {bomb.status_code} {bomb.json()["error"]["code"]} | {bomb_mb:.0f} MB |
| 200 MB JSON body without a key | {keyless.status_code} | {keyless_mb:.0f} MB |
| 200 MB JSON body with a key | {keyed.status_code} | {keyed_mb:.0f} MB |
| PPTX listing 300,000 parts ({len(deck) // MB} MB) | {pptx.status_code} in {pptx_s:.1f} s | {pptx_mb:.0f} MB |

Memory given back after work: before five 24 MP photos {burst["before"]:.0f} MB; after their
variants, once idle, {burst["after"]:.0f} MB (goal: within 50 MB of before); the peak on the
way {burst["peak"]:.0f} MB.

Server errors (5xx other than the documented 502/503) in the log: {log.count("unhandled error")}.
Temporary files left behind by these requests: {len(leftovers)}.
"""


def _burst(server: _Server, api: httpx.Client, folder: Path) -> dict[str, float]:
    """Five 24 MP photos uploaded one after another, each until its variants are made;
    the server's resident memory before, at its peak, and idle after (the API process with
    its embedded workers: the job's threads are where a decoded picture lives)."""
    import pyvips

    photo = folder / "burst.jpg"
    noise = pyvips.Image.gaussnoise(6000, 4000, sigma=30, mean=128)
    # Q 85: about 26 MB, under the 30 MB an image may be (Q 90 made 30.5 MB: refused).
    noise.bandjoin([noise.rot180(), noise.fliphor()]).cast("uchar").jpegsave(str(photo), Q=85)
    data = photo.read_bytes()
    time.sleep(1)
    server.peak_reset()
    before = server.memory("VmRSS") / MB
    for number in range(5):
        answer = api.post("/v1/media", files={"file": (f"burst-{number}.jpg", data, "image/jpeg")})
        if answer.status_code != 201:
            raise RuntimeError(f"the burst's upload answered {answer.status_code}: {answer.text}")
        media_id = answer.json()["id"]
        for _ in range(600):
            variants = api.get(f"/v1/media/{media_id}/variants").json()
            if variants.get("variants_status") in ("ready", "none"):
                break
            time.sleep(0.2)
    time.sleep(3)
    return {
        "before": before,
        "after": server.memory("VmRSS") / MB,
        "peak": server.memory("VmHWM") / MB,
    }


def _zeros(size: int) -> Iterator[bytes]:
    block = bytes(MB)
    for _ in range(size // MB):
        yield block
