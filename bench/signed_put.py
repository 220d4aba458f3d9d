"""A 1 GiB signed PUT to the local store against a raw sequential write on the same disk,
and the same bytes as a resumable (tus) upload: one PATCH, and 8 MiB PATCHes as the web
page sends them.

Baseline, measured in the same run: `dd if=<random file> of=<same disk> bs=4M conv=fdatasync`.
Both sides write the same random bytes (zeros look faster on a virtual disk) and both end
with the data on disk (the server fsyncs before answering). The client is curl streaming
the file (`-T`), so the figure is the server's, not a Python client's. Runs alternate
(dd, PUT, dd, PUT, …) and medians are reported, with the server's peak RSS.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
MIB = 1024 * 1024


def run(*, size_mib: int = 1024, runs: int = 5) -> str:
    """Measure, print the raw figures, and return the report section (Markdown)."""
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    source = WORK / "random.bin"
    _random_file(source, size_mib * MIB)
    size = source.stat().st_size

    server = _start_server(WORK / "data")
    bare = _start_bare_server()
    try:
        key = _new_key(WORK / "data")
        raw_times: list[float] = []
        bare_times: list[float] = []
        put_times: list[float] = []
        confirm_times: list[float] = []
        tus_times: list[float] = []
        tus_piece_times: list[float] = []
        for index in range(runs):
            _settle_page_cache(source)
            raw_times.append(_dd(source, WORK / f"raw-{index}.bin"))
            (WORK / f"raw-{index}.bin").unlink()
            _settle_page_cache(source)
            bare_times.append(_curl_put(f"{bare['url']}/", source, {}))
            _settle_page_cache(source)
            put_seconds, confirm_seconds = _signed_put(server["url"], key, source)
            put_times.append(put_seconds)
            confirm_times.append(confirm_seconds)
            _settle_page_cache(source)
            tus_times.append(_tus_upload(str(server["url"]), key, source, piece=None))
            _settle_page_cache(source)
            tus_piece_times.append(_tus_upload(str(server["url"]), key, source, piece=8 * MIB))
            print(
                f"run {index + 1}: dd {raw_times[-1]:.2f}s  bare {bare_times[-1]:.2f}s"
                f"  PUT {put_seconds:.2f}s  tus {tus_times[-1]:.2f}s"
                f"  tus 8 MiB pieces {tus_piece_times[-1]:.2f}s",
                flush=True,
            )
        peak_rss = _peak_rss(server["process"].pid)  # type: ignore[attr-defined]
    finally:
        for process in (server["process"], bare["process"]):
            process.terminate()  # type: ignore[attr-defined]
            process.wait(10)  # type: ignore[attr-defined]

    raw, put = statistics.median(raw_times), statistics.median(put_times)
    result = {
        "size_bytes": size,
        "runs": runs,
        "raw_write_range": f"{min(raw_times):.2f}-{max(raw_times):.2f}",
        "signed_put_range": f"{min(put_times):.2f}-{max(put_times):.2f}",
        "bare_seconds": statistics.median(bare_times),
        "bare_mb_s": size / statistics.median(bare_times) / 1e6,
        "raw_write_seconds": raw,
        "raw_write_mb_s": size / raw / 1e6,
        "signed_put_seconds": put,
        "signed_put_mb_s": size / put / 1e6,
        "ratio_put_to_raw": raw / put,
        "server_peak_rss_mb": peak_rss / 1e6,
        "server_start_rss_mb": server["start_rss"] / 1e6,  # type: ignore[operator]
        "confirm_ms": statistics.median(confirm_times) * 1000,
        "tus_seconds": statistics.median(tus_times),
        "tus_mb_s": size / statistics.median(tus_times) / 1e6,
        "tus_range": f"{min(tus_times):.2f}-{max(tus_times):.2f}",
        "tus_pieces_seconds": statistics.median(tus_piece_times),
        "tus_pieces_mb_s": size / statistics.median(tus_piece_times) / 1e6,
        "tus_pieces_range": f"{min(tus_piece_times):.2f}-{max(tus_piece_times):.2f}",
    }
    print(json.dumps(result, indent=2))
    shutil.rmtree(WORK, ignore_errors=True)
    return _section(result)


def _settle_page_cache(source: Path) -> None:
    """Start every measured write from the same state: dirty pages written back, clean
    ones dropped (when allowed), the source file read back into the cache. Otherwise the
    cost of reclaiming the previous run's pages lands on whichever tool runs next."""
    subprocess.run(["sync"], check=True)
    with contextlib.suppress(OSError):
        Path("/proc/sys/vm/drop_caches").write_text("1")
    with source.open("rb") as handle:
        while handle.read(16 * MIB):
            pass


def _random_file(path: Path, size: int) -> None:
    with path.open("wb") as handle:
        for _ in range(size // MIB):
            handle.write(os.urandom(MIB))


def _start_server(data_dir: Path) -> dict[str, object]:
    port = 18700 + os.getpid() % 1000
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIALIB_")}
    env["MEDIALIB_DATA_DIR"] = str(data_dir)
    process = subprocess.Popen(
        [sys.executable, "-m", "medialib.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    _wait_until_up(f"{url}/healthz")
    return {"process": process, "url": url, "start_rss": _rss(process.pid)}


def _wait_until_up(url: str) -> None:
    for _ in range(300):
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def _start_bare_server() -> dict[str, object]:
    port = 19700 + os.getpid() % 1000
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.bare_app:app", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    _wait_until_up(url)
    return {"process": process, "url": url}


def _curl_put(url: str, source: Path, headers: dict[str, str]) -> float:
    curl = ["curl", "-sS", "-f", "-X", "PUT", "-T", str(source), url, "-o", "/dev/null"]
    for name, value in headers.items():
        curl += ["-H", f"{name}: {value}"]
    started = time.perf_counter()
    subprocess.run(curl, check=True)
    return time.perf_counter() - started


def _new_key(data_dir: Path) -> str:
    env = {**os.environ, "MEDIALIB_DATA_DIR": str(data_dir)}
    out = subprocess.run(
        [sys.executable, "-m", "medialib.cli", "keys", "create", "--workspace", "bench"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


def _dd(source: Path, target: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        ["dd", f"if={source}", f"of={target}", "bs=4M", "conv=fdatasync", "status=none"], check=True
    )
    return time.perf_counter() - started


def _signed_put(url: str, key: str, source: Path) -> tuple[float, float]:
    headers = {"Authorization": f"Bearer {key}"}
    upload = httpx.post(
        f"{url}/v1/media/upload",
        headers=headers,
        json={"filename": "big.mp4", "kind": "video", "size": source.stat().st_size},
    ).json()
    put_seconds = _curl_put(upload["upload_url"], source, upload["headers"])
    started = time.perf_counter()
    # The random bytes are no video: confirm refuses them, having checked size and type.
    httpx.post(f"{url}/v1/media/{upload['id']}/confirm", headers=headers, timeout=60)
    return put_seconds, time.perf_counter() - started


_PATCH_HEADERS = {"Content-Type": "application/offset+octet-stream"}


def _tus_upload(url: str, key: str, source: Path, *, piece: int | None) -> float:
    """Create a tus upload, then send the file: in one PATCH (curl), or in pieces (each
    its own PATCH, httpx on one connection). The time includes the final confirm."""
    size = source.stat().st_size
    auth = {"Authorization": f"Bearer {key}", "Tus-Resumable": "1.0.0"}
    started = time.perf_counter()
    created = httpx.post(
        f"{url}/v1/tus/",
        headers={**auth, "Upload-Length": str(size), "Upload-Metadata": "filename YmlnLm1wNA=="},
    )
    location = f"{url}{created.headers['Location']}"
    if piece is None:
        curl = ["curl", "-sS", "-X", "PATCH", location, "-o", "/dev/null", "-T", str(source)]
        for name, value in {**auth, **_PATCH_HEADERS, "Upload-Offset": "0"}.items():
            curl += ["-H", f"{name}: {value}"]
        subprocess.run(curl, check=True)
        return time.perf_counter() - started
    # Pieces go over one kept-alive connection, as a browser sends them.
    with httpx.Client(headers=auth, timeout=120) as client, source.open("rb") as handle:
        for offset in range(0, size, piece):
            headers = {**_PATCH_HEADERS, "Upload-Offset": str(offset)}
            client.patch(location, content=handle.read(piece), headers=headers)
    return time.perf_counter() - started


def _rss(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def _peak_rss(pid: int) -> int:
    return _rss(pid, "VmHWM")


def _section(result: dict[str, Any]) -> str:
    return f"""## Signed PUT to the local store vs a raw write on the same disk

Medians of {result["runs"]} alternating runs (dd, bare endpoint, PUT, …), 1 GiB of random bytes.

| what | time | throughput |
|---|---|---|
| raw sequential write, `dd bs=4M conv=fdatasync` | {result["raw_write_seconds"]:.2f} s (range {result["raw_write_range"]}) | {result["raw_write_mb_s"]:.0f} MB/s |
| bare uvicorn endpoint that reads and discards the body (curl `-T`) | {result["bare_seconds"]:.2f} s | {result["bare_mb_s"]:.0f} MB/s |
| signed `PUT` through `medialib serve` (curl `-T`), hashed and fsynced | {result["signed_put_seconds"]:.2f} s (range {result["signed_put_range"]}) | {result["signed_put_mb_s"]:.0f} MB/s |
| **ratio (PUT throughput / raw write)** | | **{result["ratio_put_to_raw"]:.2f}×** (target ≥ 0.8×) |

| server memory | |
|---|---|
| RSS after start-up | {result["server_start_rss_mb"]:.0f} MB |
| peak RSS over all runs (VmHWM) | {result["server_peak_rss_mb"]:.0f} MB (target < 150 MB) |

How to read it: the PUT handler receives on the event loop while a worker thread writes
and hashes the previous 1 MiB batch (`uploads/streaming.py`), so it runs at whichever is
slower, the HTTP server or the disk. Where the disk is the slower (as on earlier
machines), the time is the kernel's `write()` throttled to disk speed, not Python or
SHA-256; where it is not, the PUT runs at the bare endpoint's speed (uvicorn's own body
handling) and can beat dd, which writes through the page cache and pays for all of it in
its final fdatasync, while the upload writer's `O_DIRECT` writes overlap the receive. The virtual
disk here is noisy (see the dd range): compare medians, and re-run when ranges are wide.
Before each measured write the bench syncs, drops clean page-cache pages (as root) and
re-reads the source, so no run pays for the previous run's page reclaim.

The upload writer bypasses the page cache (`O_DIRECT` through an aligned 4 MiB buffer,
`storage/local.py`): on this 2-core machine the PUT is CPU-bound (curl, uvicorn's own body
handling, SHA-256 on its own thread), and the kernel's page-cache copy and reclaim were
the largest share. Before that change the ratio ranged 0.50-1.04 over a dozen runs as the
virtual machine's speed drifted; with it the PUT itself is steady (see its range) while
dd still swings. A further lever: a leaner PUT body path than uvicorn's per-chunk copies.

Resumable (tus) uploads of the same bytes, the final confirm included:

| what | time | throughput |
|---|---|---|
| one `PATCH` (curl `-T`) | {result["tus_seconds"]:.2f} s (range {result["tus_range"]}) | {result["tus_mb_s"]:.0f} MB/s |
| 8 MiB `PATCH`es on one connection, as the web page sends them (httpx) | {result["tus_pieces_seconds"]:.2f} s (range {result["tus_pieces_range"]}) | {result["tus_pieces_mb_s"]:.0f} MB/s |

A tus append writes through the page cache (its offsets are not block-aligned, so no
`O_DIRECT`) and fdatasyncs at the end of every PATCH, so it trails the signed PUT; the SHA-256
runs as the bytes arrive, so the last byte does not re-read the file.

Confirm of the 1 GiB object (size check, sniff of the first 4 KiB; the SHA-256 was
computed during the PUT, so confirm does not read the file again):
{result["confirm_ms"]:.0f} ms median.
"""
