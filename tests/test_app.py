from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.conftest import RunningServer
from tests.helpers import upload_file, wait_settled


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
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    # default-src does not cover where forms may post: said on its own.
    assert "form-action 'self'" in policy and "frame-ancestors 'none'" in policy
    icon = anon.get("/favicon.ico")  # what browsers ask for, linked or not
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
    assert anon.get("/static/favicon.svg").content == icon.content


def test_the_api_document_is_valid_and_a_client_can_use_it(server: RunningServer) -> None:
    from openapi_spec_validator import validate

    document = httpx.get(f"{server.base_url}/openapi.json").json()
    validate(document)
    assert set(document["components"]["securitySchemes"]) == {"bearer", "apiKey"}
    operations = [op for ops in document["paths"].values() for op in ops.values()]
    probe = document["paths"]["/readyz"]["get"]  # its 503 is the readiness report itself
    assert probe["responses"]["503"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Readiness"
    }
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids)) and "request_upload" in ids and "get_media" in ids
    for operation in operations:
        names = {p["name"].lower() for p in operation.get("parameters", [])}
        assert not names & {"authorization", "x-api-key"}  # the key is a security scheme
        assert "security" in operation  # every call says whether it takes a key
        for status, answer in operation["responses"].items():
            if status.startswith(("4", "5")) and operation is not probe:
                schema = answer["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}
    direct = document["paths"]["/v1/media"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in direct
    signed = document["paths"]["/v1/uploads/local"]["put"]
    assert "application/octet-stream" in signed["requestBody"]["content"]
    assert signed["security"] == []  # authorised by its signature
    assert document["servers"][0]["url"] == server.settings.public_base_url
    request = document["components"]["schemas"]["UploadRequest"]
    assert all("default" not in field for field in request["properties"].values())


def test_a_405_names_every_method_the_path_takes(server: RunningServer) -> None:
    answer = httpx.request("OPTIONS", f"{server.base_url}/v1/posts")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, POST"
    trash = httpx.put(f"{server.base_url}/v1/media/trash")
    assert trash.status_code == 405 and trash.headers["allow"] == "GET"


@pytest.mark.parametrize("value", ["0.5", "1700000000", "-3"])
def test_dates_in_queries_are_dates_not_numbers(server: RunningServer, value: str) -> None:
    with server.client() as api:
        answer = api.get("/v1/media", params={"created_before": value})
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "validation_error"


def test_metrics_count_requests_by_route_uploads_and_jobs(
    server: RunningServer, files: Path
) -> None:
    with server.client() as api:
        media = wait_settled(api, upload_file(api, files / "photo.jpg")["id"])
        assert api.get(f"/v1/media/{media['id']}").status_code == 200
    text = httpx.get(f"{server.base_url}/metrics").text
    assert 'route="/v1/media/{media_id}"' in text  # the template, never an id
    assert media["id"] not in text
    assert re.search(r'medialib_upload_bytes_total\{way="signed_put"\} [1-9]', text)
    assert re.search(r'medialib_jobs_total\{outcome="done",queue="image"\} [1-9]', text)
    assert "medialib_jobs_waiting" in text
    assert "medialib_http_request_duration_seconds_bucket" in text


def test_the_api_reference_works_offline(anon: httpx.Client) -> None:
    """Both viewers are served from the package, with no inline script and nothing from
    outside; tests/web/test_api_reference.py opens them in a browser."""
    for path, asset in (
        ("/docs", "/static/vendor/swagger-ui/swagger-ui-bundle.js"),
        ("/redoc", "/static/vendor/redoc/redoc.standalone.js"),
    ):
        page = anon.get(path)
        assert page.status_code == 200 and asset in page.text
        assert "cdn." not in page.text and "https://" not in page.text  # nothing from outside
        policy = page.headers["content-security-policy"]
        assert "http" not in policy and "script-src 'self';" in policy  # no inline script
        served = anon.get(asset)
        assert served.status_code == 200 and "javascript" in served.headers["content-type"]
        assert len(served.content) > 100_000


def test_every_route_that_needs_a_key_refuses_a_bad_one_before_reading_its_body(
    anon: httpx.Client,
) -> None:
    """401, not 422: a caller with a wrong key learns nothing of what a valid body is
    (import and probe once validated the body first)."""
    spec = anon.get("/openapi.json").json()
    checked = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if "requestBody" not in operation or not operation.get("security"):
                continue
            url = re.sub(r"\{[^}]+\}", "x", path)
            for body in ({"not": "what it takes"}, None):
                answer = anon.request(
                    method.upper(),
                    url,
                    json=body,
                    content=b"{broken" if body is None else None,
                    headers={
                        "Authorization": "Bearer mlk_bad_bad",
                        "Content-Type": "application/json",
                        "Tus-Resumable": "1.0.0",  # tus answers 412 without it, as tus says
                    },
                )
                assert answer.status_code == 401, (method, path, answer.status_code, answer.text)
            checked += 1
    assert checked >= 20
