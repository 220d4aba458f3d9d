"""Publishing to Bluesky's reference PDS (run here offline), against the same calls made
directly in the same run.

- A 4-image post: medialib's time from the post's moment (`scheduled_at`) to the target
  recorded `published`, against the `atproto` SDK making the calls a client makes
  (log in, four `uploadBlob`, `createRecord`) with the same four files, timed from its
  first call to its last answer. medialib logs in when the account is added, so its
  time has no log-in; it pays instead for reading the plan, a `getRecord` (the
  exactly-once check) and writing each step down.
- 100 posts due in the same second with 2 `medialib worker` processes (the API with no
  workers of its own): every post published once and none twice (records in the PDS
  repository = posts), and how the start times spread.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from tests import mediafiles
from tests.bluesky.pds import Pds, available

RUNS = 5


def _port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(folder: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIALIB_")}
    env.update(
        MEDIALIB_DATA_DIR=str(folder),
        MEDIALIB_RATE_LIMIT_PER_MINUTE="0",
        MEDIALIB_ALLOW_LOOPBACK_TARGETS="1",
        MEDIALIB_IMPORT_ALLOW_HTTP="1",
        **extra,
    )
    return env


def _serve(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str, str]:
    port = _port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "medialib.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    for _ in range(300):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    created = subprocess.run(
        [
            sys.executable,
            "-m",
            "medialib.cli",
            "keys",
            "create",
            "--workspace",
            f"b{uuid.uuid4().hex[:6]}",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return process, url, created.stdout.strip().splitlines()[-1]


def _wait(api: httpx.Client, path: str, done: Any, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = api.get(path).json()
        if done(answer):
            return answer
        time.sleep(0.05)
    raise RuntimeError(f"{path} did not settle")


def _photos(folder: Path) -> list[Path]:
    # Phone-sized photos small enough for Bluesky as they are (no variant: both sides send
    # the same bytes).
    return [mediafiles.noisy_jpeg(folder / f"photo-{i}.jpg", 760, 570) for i in range(4)]


def _direct(pds: Pds, photos: list[Path]) -> float:
    from atproto import Client, models

    account = pds.new_account()
    blobs = [path.read_bytes() for path in photos]
    started = time.perf_counter()
    client = Client(base_url=f"{pds.url}/xrpc")
    client.login(account.handle, account.password, fetch_bsky_profile=False)  # no app view here
    images = []
    for data in blobs:
        blob = client.upload_blob(data).blob
        images.append(models.AppBskyEmbedImages.Image(alt="a photo", image=blob))
    # send_post wants the profile the login skipped: the record itself, as it makes it.
    record = models.AppBskyFeedPost.Record(
        text="A 4-image post",
        created_at=client.get_current_time_iso(),
        embed=models.AppBskyEmbedImages.Main(images=images),
    )
    client.com.atproto.repo.create_record(
        models.ComAtprotoRepoCreateRecord.Data(
            repo=account.did, collection="app.bsky.feed.post", record=record
        )
    )
    return time.perf_counter() - started


def _through_medialib(api: httpx.Client, pds: Pds, media_ids: list[str]) -> float:
    account = pds.new_account()
    added = api.post(
        "/v1/accounts",
        json={
            "network": "bluesky",
            "handle": account.handle,
            "service_url": pds.url,
            "credentials": {"app_password": account.password},
        },
    ).json()
    due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    post = api.post(
        "/v1/posts",
        json={
            "text": "A 4-image post",
            "targets": [{"platform": "bluesky", "account_id": added["id"]}],
            "media": [{"media_id": m, "alt_text": "a photo"} for m in media_ids],
            "scheduled_at": due.isoformat(),
        },
    ).json()
    done = _wait(
        api,
        f"/v1/posts/{post['id']}",
        lambda p: p["status"] != "scheduled" and p["status"] != "publishing",
    )
    if done["status"] != "published":
        raise RuntimeError(f"not published: {done}")
    published = dt.datetime.fromisoformat(done["targets"][0]["published_at"])
    return (published - due).total_seconds()


def _four_images(folder: Path, pds: Pds) -> str:
    photos = _photos(folder)
    process, url, key = _serve(_env(folder / "one", MEDIALIB_JOB_POLL_SECONDS="1"))
    try:
        with httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60
        ) as api:
            media_ids = []
            for path in photos:
                with path.open("rb") as file:
                    media = api.post(
                        "/v1/media", files={"file": (path.name, file, "image/jpeg")}
                    ).json()
                media_ids.append(media["id"])
            for media_id in media_ids:
                _wait(
                    api,
                    f"/v1/media/{media_id}/variants",
                    lambda v: v["variants_status"] != "pending",
                )
            ours, direct = [], []
            for _ in range(RUNS):  # interleaved, so drift hits both
                direct.append(_direct(pds, photos))
                ours.append(_through_medialib(api, pds, media_ids))
    finally:
        process.terminate()
        process.wait(15)
    median_ours, median_direct = statistics.median(ours), statistics.median(direct)
    return (
        "| path | median | range |\n|---|---|---|\n"
        f"| `atproto` SDK directly: log in, 4 × uploadBlob, createRecord | {median_direct * 1000:.0f} ms | "
        f"{min(direct) * 1000:.0f}–{max(direct) * 1000:.0f} ms |\n"
        f"| medialib: from `scheduled_at` to `published` | {median_ours * 1000:.0f} ms | "
        f"{min(ours) * 1000:.0f}–{max(ours) * 1000:.0f} ms |\n\n"
        f"Ratio {median_ours / median_direct:.2f}× the direct calls (goal ≤ 1.2×); "
        f"{sum(p.stat().st_size for p in photos) / 1e6:.1f} MB of photos, {RUNS} runs each.\n"
    )


def _hundred_due_at_once(folder: Path, pds: Pds) -> str:
    database = f"sqlite:///{folder / 'many.db'}"
    env = _env(folder / "many", MEDIALIB_DATABASE_URL=database, MEDIALIB_WORKER_THREADS="0")
    process, url, key = _serve(env)
    worker_env = {
        **env,
        "MEDIALIB_QUEUE_THREADS": '{"publish": 2}',
        "MEDIALIB_JOB_POLL_SECONDS": "0.2",
    }
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "medialib.cli", "worker"],
            env=worker_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        for _ in range(2)
    ]
    account = pds.new_account()
    try:
        with httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60
        ) as api:
            api.post(
                "/v1/accounts",
                json={
                    "network": "bluesky",
                    "handle": account.handle,
                    "service_url": pds.url,
                    "credentials": {"app_password": account.password},
                },
            ).raise_for_status()
            due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=10)
            ids = [
                api.post(
                    "/v1/posts",
                    json={
                        "text": f"Post {n}",
                        "targets": [{"platform": "bluesky"}],
                        "scheduled_at": due.isoformat(),
                    },
                ).json()["id"]
                for n in range(100)
            ]
            finished = [
                _wait(
                    api,
                    f"/v1/posts/{post_id}",
                    lambda p: p["status"] in ("published", "failed"),
                    timeout=600,
                )
                for post_id in ids
            ]
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(15)
        process.terminate()
        process.wait(15)
    published = [p for p in finished if p["status"] == "published"]
    records = pds.records(account.did)
    times = sorted(dt.datetime.fromisoformat(p["targets"][0]["published_at"]) for p in published)
    spread = (times[-1] - times[0]).total_seconds() if times else 0.0
    last = (times[-1] - due).total_seconds() if times else 0.0
    return (
        f"100 posts due at the same second, 2 `medialib worker` processes × 2 publish threads: "
        f"**{len(published)} published**, {len(finished) - len(published)} failed; "
        f"**{len(records)} records** in the account's repository "
        f"({len({r['uri'] for r in records})} distinct: none twice). The first went out "
        f"{(times[0] - due).total_seconds():.2f} s after the moment, the last {last:.2f} s after "
        f"({spread:.2f} s from first to last).\n"
    )


def run() -> str:
    if not available():
        return "## Publishing\n\nNot measured: the reference PDS is not installed (`./scripts/test` installs it into `.pds/`).\n"
    with tempfile.TemporaryDirectory(prefix="medialib-bench-publish-") as work:
        folder = Path(work)
        for name in ("one", "many", "pds"):
            (folder / name).mkdir()
        pds = Pds(folder / "pds", _port(), _port())
        pds.start()
        try:
            four = _four_images(folder, pds)
            many = _hundred_due_at_once(folder, pds)
        finally:
            pds.stop()
    return f"## Publishing\n\nAgainst Bluesky's reference PDS on loopback (`@atproto/dev-env`).\n\n{four}\n{many}"
