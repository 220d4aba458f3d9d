"""Property-based fuzzing of every operation in the OpenAPI document (Schemathesis):
whatever is sent, valid or not, no answer is a server error. Once, on SQLite: the API
layer is what is fuzzed here."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import running_server

ST = shutil.which("st") or str(Path(sys.executable).parent / "st")


def test_no_operation_answers_a_server_error(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with running_server(request, tmp_path_factory, "sqlite") as server:
        result = subprocess.run(
            [
                ST,
                "run",
                f"{server.base_url}/openapi.json",
                "--checks",
                "not_a_server_error",
                "--max-examples",
                "12",
                "--seed",
                "20261122",
                "-H",
                f"Authorization: Bearer {server.new_key()}",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            # Schemathesis keeps a cache in its working directory: not in the work tree.
            cwd=tmp_path_factory.mktemp("schemathesis"),
            check=False,
        )
    assert result.returncode == 0, result.stdout[-4000:]
    summary = result.stdout.split("SUMMARY")[-1]
    assert " passed" in summary and "Failures" not in summary, summary
