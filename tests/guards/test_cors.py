"""Browsers on other origins (Uppy, tus-js-client, a dashboard): allowed origins get the
CORS answers they need for the API, signed upload URLs and tus; others get none. Driven
with raw preflight and actual requests as a browser sends them (no browser here runs
cross-origin requests with its security on against loopback ports in a test)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import RunningServer, running_server
from tests.helpers import request_upload

ALLOWED = "https://dashboard.example"


@pytest.fixture(scope="module")
def cors(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    with running_server(request, tmp_path_factory, "sqlite", cors_origins=[ALLOWED]) as server:
        yield server


def _preflight(server: RunningServer, path: str, method: str, headers: str) -> httpx.Response:
    return httpx.options(
        f"{server.base_url}{path}",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
    )


@pytest.mark.parametrize(
    ("path", "method", "headers"),
    [
        ("/v1/media/upload", "POST", "authorization, content-type, idempotency-key"),
        ("/v1/tus/", "POST", "authorization, tus-resumable, upload-length, upload-metadata"),
        ("/v1/tus/upl_x", "PATCH", "authorization, tus-resumable, upload-offset, content-type"),
        ("/v1/uploads/local?key=k", "PUT", "content-type"),
        ("/v1/media", "GET", "authorization, x-request-id, if-none-match, if-modified-since"),
    ],
)
def test_preflights_from_an_allowed_origin_are_answered(
    cors: RunningServer, path: str, method: str, headers: str
) -> None:
    answer = _preflight(cors, path, method, headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["access-control-allow-origin"] == ALLOWED
    assert method in answer.headers["access-control-allow-methods"]
    allowed = answer.headers["access-control-allow-headers"].lower()
    assert all(name.strip() in allowed for name in headers.split(","))


def test_answers_expose_what_clients_read(cors: RunningServer, files: Path) -> None:
    with cors.client() as api:
        api.headers["Origin"] = ALLOWED
        upload = request_upload(api, filename="a.jpg")
        assert upload["upload_url"]
        created = api.post(
            "/v1/tus/",
            headers={
                "Tus-Resumable": "1.0.0",
                "Upload-Length": "10",
                "Upload-Metadata": "filename YS5qcGc=",
            },
        )
    assert created.headers["access-control-allow-origin"] == ALLOWED
    exposed = {
        h.strip().lower() for h in created.headers["access-control-expose-headers"].split(",")
    }
    assert {
        "location",
        "upload-offset",
        "medialib-media-id",
        "tus-resumable",
        "retry-after",
    } <= exposed
    assert {"idempotent-replayed", "ratelimit-remaining", "upload-length"} <= exposed
    # A page's next/previous links, the request's id, and a file's validators.
    assert {"link", "x-request-id", "etag", "last-modified", "content-range"} <= exposed


def test_other_origins_get_no_cors_answers(cors: RunningServer, server: RunningServer) -> None:
    stranger = httpx.options(
        f"{cors.base_url}/v1/media/upload",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in stranger.headers
    # And by default no origin at all is allowed.
    default = httpx.get(f"{server.base_url}/healthz", headers={"Origin": ALLOWED})
    assert "access-control-allow-origin" not in default.headers
