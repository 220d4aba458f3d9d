"""The page on a server whose store is S3 (LocalStack, signatures enforced): small files
go from the browser straight to the bucket (the page's CSP allows the bucket's origin and
the bucket's CORS rule is the one docs/deploy.md gives), large ones go through tus into
S3 multipart parts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from playwright.sync_api import expect

from tests import mediafiles
from tests.conftest import RunningServer, isolated_server, new_bucket
from tests.web.test_library import _drop, _sign_in


@pytest.fixture(scope="module")
def s3_web_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str
) -> Iterator[RunningServer]:
    with isolated_server(
        request, tmp_path_factory, "sqlite", storage_url=new_bucket(s3_endpoint)
    ) as server:
        bucket = server.state.store.bucket  # type: ignore[attr-defined]
        boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").put_bucket_cors(
            Bucket=bucket,
            CORSConfiguration={
                "CORSRules": [
                    {
                        "AllowedOrigins": [server.base_url],
                        "AllowedMethods": ["PUT"],
                        "AllowedHeaders": ["Content-Type", "Content-Length"],
                        "ExposeHeaders": ["ETag"],
                        "MaxAgeSeconds": 600,
                    }
                ]
            },
        )
        yield server


def test_the_page_uploads_to_the_bucket_and_resumes_through_s3(
    page: Any, s3_web_server: RunningServer, s3_endpoint: str, files: Path, tmp_path: Path
) -> None:
    answer = page.goto(s3_web_server.base_url)
    csp = answer.headers["content-security-policy"]
    assert f"connect-src 'self' {s3_endpoint};" in csp
    big = mediafiles.noisy_jpeg(tmp_path / "big.jpg")
    page.evaluate('() => localStorage.setItem("medialib.resumableAbove", "1000000")')
    sent: list[str] = []
    page.on("request", lambda r: sent.append(f"{r.method} {r.url.split('?')[0]}"))
    _sign_in(page, s3_web_server, s3_web_server.new_key())
    _drop(page, [(files / "photo.jpg", "photo.jpg", "image/jpeg"), (big, "big.jpg", "image/jpeg")])
    expect(page.locator("#grid .card[data-status=ready]")).to_have_count(2, timeout=60000)
    assert any(line.startswith(f"PUT {s3_endpoint}/") for line in sent), sent
    assert any(line.startswith(f"PATCH {s3_web_server.base_url}/v1/tus/") for line in sent)
