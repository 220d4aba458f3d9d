"""A real S3 server for the tests: LocalStack's S3, on loopback, signatures enforced.

LocalStack checks presigned signatures, their expiry, the signed Content-Type and
Content-Length, POST policies, conditional writes and the multipart rules, which is what
medialib's S3 store leans on (moto accepts every presigned violation, so it cannot prove
those). It lives in its own virtual environment, `.venv-localstack`, made by
`scripts/_localstack.sh` (its dependencies need pins that would clash with ours).
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = Path(os.environ.get("MEDIALIB_LOCALSTACK_PYTHON", ROOT / ".venv-localstack/bin/python"))
# LocalStack's S3 accepts any access key; it signs with this secret.
ACCESS_KEY = "test"
SECRET_KEY = "test"


def available() -> bool:
    return PYTHON.is_file()


class LocalStack:
    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.port = port
        self.endpoint = f"http://127.0.0.1:{port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        environment = {
            **os.environ,
            "SERVICES": "s3",
            "S3_SKIP_SIGNATURE_VALIDATION": "0",
            # Only hypercorn honours the loopback address; the default binds 0.0.0.0.
            "GATEWAY_SERVER": "hypercorn",
            "GATEWAY_LISTEN": f"127.0.0.1:{self.port}",
            "DNS_ADDRESS": "0",
            "DISABLE_EVENTS": "1",
            "SKIP_SSL_CERT_DOWNLOAD": "1",
            "LOCALSTACK_VOLUME_DIR": str(self.folder / "volume"),
            "TMPDIR": str(self.folder),
        }
        with (self.folder / "localstack.log").open("wb") as log:
            self._process = subprocess.Popen(
                [str(PYTHON), "-m", "localstack.runtime.main"],
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
            )
        deadline = time.monotonic() + 90
        while not self._ready():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = (self.folder / "localstack.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"LocalStack did not start:\n{tail}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def _ready(self) -> bool:
        try:
            health = f"{self.endpoint}/_localstack/health"
            with urllib.request.urlopen(health, timeout=1) as r:  # noqa: S310 (our http URL)
                body = r.read()
        except OSError:
            return False
        return b'"s3": "available"' in body or b'"s3": "running"' in body
