from __future__ import annotations

import httpx


def test_healthz_and_readyz(anon: httpx.Client) -> None:
    assert anon.get("/healthz").json() == {"status": "ok"}
    ready = anon.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"] == "ok" and ready.json()["checks"]["storage"] == "ok"
    assert ready.json()["checks"]["scanner"] == "disabled"


def test_openapi_documents_the_media_api(anon: httpx.Client) -> None:
    spec = anon.get("/openapi.json").json()
    for path in (
        "/v1/media/upload",
        "/v1/media/{media_id}/confirm",
        "/v1/media",
        "/v1/media/{media_id}",
    ):
        assert path in spec["paths"], path
    assert (
        "Check the uploaded bytes"
        in spec["paths"]["/v1/media/{media_id}/confirm"]["post"]["description"]
    )


def test_web_page_is_served_with_a_content_security_policy(anon: httpx.Client) -> None:
    page = anon.get("/")
    assert page.status_code == 200 and "medialib" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
