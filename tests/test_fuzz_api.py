"""Property-based fuzzing of every operation in the OpenAPI document (Schemathesis):
whatever is sent, valid or not, no answer is a server error, every status and header is
the documented one, every body matches its schema, and 405s name exactly the methods a
path takes. Once, on SQLite: the API layer is what is fuzzed here.

Not checked: that invalid data is always refused with one of Schemathesis' expected
codes (tus answers 412 for a wrong `Tus-Resumable`, as its protocol requires) and that
schema-valid data is always accepted (business rules the schema cannot say: a kind that
can be inferred, a platform that exists, a URL that resolves)."""

from __future__ import annotations

import os
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
                ",".join(
                    (
                        "not_a_server_error",
                        "status_code_conformance",
                        "content_type_conformance",
                        "response_headers_conformance",
                        "response_schema_conformance",
                        "unsupported_method",
                        "use_after_free",
                        "ensure_resource_availability",
                    )
                ),
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
            env={
                **os.environ,
                "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks",
                "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
            },
            check=False,
        )
    assert result.returncode == 0, result.stdout[-4000:]
    summary = result.stdout.split("SUMMARY")[-1]
    assert " passed" in summary and "Failures" not in summary, summary
