"""Run `medialib` as real child processes (for crash and CLI tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import free_port

MEDIALIB = [sys.executable, "-m", "medialib.cli"]


def env_for(data_dir: Path, database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIALIB_")}
    env.update(MEDIALIB_DATA_DIR=str(data_dir), MEDIALIB_DATABASE_URL=database_url, **extra)
    return env


class _Child:
    process: subprocess.Popen[bytes]

    def kill(self) -> None:
        """SIGKILL: no clean-up handlers run, as in a crash or an OOM kill."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


class ServeProcess(_Child):
    def __init__(
        self, env: dict[str, str], port: int | None = None, *, stdout: int | None = None
    ) -> None:
        """`stdout`: where the child's output goes instead of `self.log` (a pipe, say)."""
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = Path(env["MEDIALIB_DATA_DIR"]) / f"serve-{self.port}-{time.time_ns()}.log"
        with self.log.open("wb") as out:  # the child keeps its own copy
            self.process = subprocess.Popen(
                [*MEDIALIB, "serve", "--port", str(self.port)],
                env=env,
                stdout=out if stdout is None else stdout,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited: {self.log.read_text()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"serve did not start: {self.log.read_text()}")

    def output(self) -> str:
        return self.log.read_text()


class WorkerProcess(_Child):
    """`medialib worker` as a child process; ready once it prints its banner."""

    def __init__(self, env: dict[str, str]) -> None:
        self.log = Path(env["MEDIALIB_DATA_DIR"]) / f"worker-{time.time_ns()}.log"
        with self.log.open("wb") as out:  # the child keeps its own copy
            self.process = subprocess.Popen(
                [*MEDIALIB, "worker"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while "medialib worker" not in self.log.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start: {self.log.read_text()}")
            time.sleep(0.1)
