"""Publishing tests: a medialib server allowed to reach loopback (where the PDS and the
hand-off receivers are), Bluesky's reference PDS, and helpers to schedule a post a moment
ahead and wait for it to go out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.bluesky import pds as pds_server
from tests.conftest import RunningServer, isolated_server
from tests.helpers import eventually, upload_file, wait_settled, wait_variants

# How far ahead a post is scheduled: it must be in the future when it is scheduled.
AHEAD = dt.timedelta(seconds=1.5)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def publisher(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """A server whose publishing may reach loopback (the PDS, the receivers), with its own
    database: another server's workers (another development key) must not take its
    publishing jobs, which would find its sealed credentials unreadable."""
    with isolated_server(
        request,
        tmp_path_factory,
        request.param,
        allow_loopback_targets=True,
        import_allow_http=True,
        worker_threads=2,
        publish_request_seconds=30,
        job_retry_base_seconds=0.2,
    ) as running:
        yield running


@pytest.fixture
def api(publisher: RunningServer) -> Iterator[httpx.Client]:
    with publisher.client() as client:
        yield client


def soon() -> str:
    return (dt.datetime.now(dt.UTC) + AHEAD).isoformat()


def ready_media(api: httpx.Client, path: Path, **fields: Any) -> dict[str, Any]:
    media = upload_file(api, path, **fields)
    media = wait_settled(api, media["id"])
    assert media["status"] == "ready", media
    if media["kind"] in ("image", "gif", "video"):
        wait_variants(api, media["id"])
    return media


def schedule(api: httpx.Client, **body: Any) -> dict[str, Any]:
    answer = api.post("/v1/posts", json={"scheduled_at": soon(), **body})
    assert answer.status_code == 201, answer.text
    post: dict[str, Any] = answer.json()
    return post


def settled(api: httpx.Client, post_id: str, timeout: float = 60) -> dict[str, Any]:
    """The post once it has ended (published, partly published or failed)."""
    ended = ("published", "partly_published", "failed")
    post: dict[str, Any] = eventually(
        lambda: api.get(f"/v1/posts/{post_id}").json(),
        lambda p: p["status"] in ended,
        timeout=timeout,
        interval=0.2,
        what="the post to be published",
    )
    return post


def bluesky_account(api: httpx.Client, pds: pds_server.Pds) -> tuple[dict[str, Any], Any]:
    account = pds.new_account()
    answer = api.post(
        "/v1/accounts",
        json={
            "network": "bluesky",
            "handle": account.handle,
            "service_url": pds.url,
            "credentials": {"app_password": account.password},
        },
    )
    assert answer.status_code == 201, answer.text
    return answer.json(), account
