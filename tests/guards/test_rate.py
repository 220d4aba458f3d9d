"""Rate limits per key and per address, over real HTTP, in memory and through Redis
(shared by every API process)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import RunningServer, running_server
from tests.helpers import error_of

PER_MINUTE = 60


@pytest.fixture(scope="module", params=["memory", "redis"])
def limited(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    overrides: dict[str, object] = {"rate_limit_per_minute": PER_MINUTE}
    if request.param == "redis":
        overrides["broker_url"] = request.getfixturevalue("redis_url")
        overrides["broker_namespace"] = f"rate-{uuid.uuid4().hex[:8]}"
    with running_server(request, tmp_path_factory, "sqlite", **overrides) as server:
        yield server


def test_a_key_past_its_limit_is_told_when_to_come_back(limited: RunningServer) -> None:
    with limited.client() as api, limited.client() as neighbour:
        answers = [api.get("/v1/media") for _ in range(PER_MINUTE + 5)]
        statuses = [answer.status_code for answer in answers]
        assert statuses[:PER_MINUTE] == [200] * PER_MINUTE
        assert set(statuses[PER_MINUTE:]) == {429}
        first = answers[0]
        assert first.headers["ratelimit-limit"] == str(PER_MINUTE)
        assert int(first.headers["ratelimit-remaining"]) == PER_MINUTE - 1
        refused = answers[-1]
        assert error_of(refused)["code"] == "rate_limited"
        assert 0 < int(refused.headers["retry-after"]) <= 60
        assert refused.headers["ratelimit-remaining"] == "0"
        # Another key of the same address goes on.
        assert neighbour.get("/v1/media").status_code == 200


def test_a_flood_of_made_up_keys_is_throttled_by_address(limited: RunningServer) -> None:
    statuses = [
        httpx.get(
            f"{limited.base_url}/v1/media",
            headers={"Authorization": f"Bearer mlk_{uuid.uuid4().hex[:12]}_nope"},
        ).status_code
        for _ in range(30)
    ]
    assert 401 in statuses and statuses[-1] == 429
    assert httpx.get(f"{limited.base_url}/healthz").status_code == 200  # outside the API


def test_refused_keys_from_an_address_never_lock_out_its_valid_keys(
    limited: RunningServer,
) -> None:
    """Everyone behind one NAT shares an address: one client retrying a revoked key must
    not turn every colleague's valid key into 429s."""
    bad = {"Authorization": "Bearer mlk_revokedkey00_nope"}
    statuses = [
        httpx.get(f"{limited.base_url}/v1/media", headers=bad).status_code for _ in range(30)
    ]
    assert statuses[-1] == 429
    with limited.client() as colleague:
        assert [colleague.get("/v1/media").status_code for _ in range(5)] == [200] * 5


def test_a_made_up_key_is_no_fresh_bucket_on_a_route_that_takes_none(
    limited: RunningServer,
) -> None:
    statuses = [
        httpx.options(
            f"{limited.base_url}/v1/tus",
            headers={"Authorization": f"Bearer mlk_{uuid.uuid4().hex[:12]}_x"},
        ).status_code
        for _ in range(PER_MINUTE // 5 + 3)
    ]
    assert statuses[: PER_MINUTE // 5] == [204] * (PER_MINUTE // 5)
    assert statuses[-1] == 429


def test_forwarded_addresses_count_only_from_a_trusted_proxy(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> None:
    def statuses(server: RunningServer) -> list[int]:
        return [
            httpx.options(
                f"{server.base_url}/v1/tus", headers={"X-Forwarded-For": f"198.51.100.{n}"}
            ).status_code
            for n in range(PER_MINUTE // 5 + 3)
        ]

    overrides = {"rate_limit_per_minute": PER_MINUTE}
    with running_server(request, tmp_path_factory, "sqlite", **overrides) as untrusting:
        assert statuses(untrusting)[-1] == 429  # one peer, whatever it says it forwards
    with running_server(
        request, tmp_path_factory, "sqlite", trusted_proxies=["127.0.0.1"], **overrides
    ) as behind_proxy:
        assert set(statuses(behind_proxy)) == {204}  # each forwarded client its own
