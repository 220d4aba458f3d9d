"""The API reference as a person opens it, offline: Swagger UI (/docs) and Redoc (/redoc)
render every operation of the OpenAPI 3.1 document (Swagger UI 4 rendered none), and the
vendored files are the ones their README names."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import expect

from medialib.web import views
from tests.conftest import RunningServer
from tests.web.conftest import save_screenshot

VENDOR = Path(views.STATIC_DIR) / "vendor"


def _operations(server: RunningServer) -> set[tuple[str, str]]:
    spec = httpx.get(f"{server.base_url}/openapi.json").json()
    methods = {"get", "put", "post", "delete", "patch", "options", "head"}
    return {(m, path) for path, ops in spec["paths"].items() for m in ops if m in methods}


def test_swagger_ui_renders_every_operation(
    page: Any, web_server: RunningServer, tmp_path: Path
) -> None:
    page.goto(f"{web_server.base_url}/docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=20000)
    shown = page.evaluate(
        """() => [...document.querySelectorAll('.opblock')].map((block) => [
             block.querySelector('.opblock-summary-method').textContent.toLowerCase(),
             block.querySelector('.opblock-summary-path').dataset.path])"""
    )  # an operation with two tags is shown under each
    assert {(method, path) for method, path in shown} == _operations(web_server)
    expect(page.get_by_text("Unable to render")).to_have_count(0)
    save_screenshot(page, "api-reference", tmp_path)


def test_redoc_renders_every_operation(page: Any, web_server: RunningServer) -> None:
    page.goto(f"{web_server.base_url}/redoc")
    operations = page.locator("[data-section-id*='operation/']")
    expect(operations.first).to_be_attached(timeout=30000)
    ids = page.evaluate(
        """() => [...document.querySelectorAll("[data-section-id*='operation/']")]
             .map((node) => node.dataset.sectionId.split('operation/')[1])"""
    )  # an operation with two tags is shown under each
    assert len(set(ids)) == len(_operations(web_server))


def test_the_vendored_viewers_are_the_files_their_readme_names() -> None:
    readme = (VENDOR / "README.md").read_text()
    named = re.findall(r"\| `([^`]+)` \| `[^`]+` \| `([0-9a-f]{64})` \|", readme)
    assert len(named) == 3
    for path, digest in named:
        assert hashlib.sha256((VENDOR / path).read_bytes()).hexdigest() == digest, path
