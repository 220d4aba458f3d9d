"""A real ClamAV daemon for the tests, on a Unix socket of its own.

The official signature database cannot be downloaded here (no network), so the daemon
loads one signature of ours: the EICAR test string, found anywhere in a file. Everything
else about the daemon (protocol, limits, streaming) is the real thing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

CLAMD = shutil.which("clamd") or "/usr/sbin/clamd"
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!H+H*"
THREAT = "Medialib.Test.Eicar.UNOFFICIAL"


class Clamd:
    def __init__(self, folder: Path, *, stream_max: str = "300M") -> None:
        self.folder = folder
        self.socket_path = folder / "clamd.sock"
        self.url = f"unix://{self.socket_path}"
        self._process: subprocess.Popen[bytes] | None = None
        database = folder / "db"
        database.mkdir(parents=True, exist_ok=True)
        (database / "medialib-test.ndb").write_text(f"Medialib.Test.Eicar:0:*:{EICAR.hex()}\n")
        lines = [
            f"LocalSocket {self.socket_path}",
            f"DatabaseDirectory {database}",
            "Foreground yes",
            f"LogFile {folder / 'clamd.log'}",
            f"StreamMaxLength {stream_max}",
            "MaxFileSize 300M",
            "MaxScanSize 300M",
            "AlertExceedsMax yes",
        ]
        if os.geteuid() == 0:
            lines.append("User root")
        self.config = folder / "clamd.conf"
        self.config.write_text("\n".join(lines) + "\n")

    def start(self) -> None:
        self.socket_path.unlink(missing_ok=True)
        self._process = subprocess.Popen(
            [CLAMD, "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while not self._answers():
            if self._process.poll() is not None or time.monotonic() > deadline:
                log = (self.folder / "clamd.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"clamd did not start:\n{log}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(20)
            self._process = None

    def _answers(self) -> bool:
        try:
            with socket.socket(socket.AF_UNIX) as conn:
                conn.settimeout(2)
                conn.connect(str(self.socket_path))
                conn.sendall(b"zPING\0")
                return conn.recv(16).startswith(b"PONG")
        except OSError:
            return False
