"""The accounts API under hostile and careless use: isolation between workspaces, SSRF
rules on a user-given server, refusals before anything is stored, credentials that stay
sealed and unlogged, and an account a scheduled post still needs."""

from __future__ import annotations

import pytest

from medialib.accounts.sealing import Sealer, sealer_for
from medialib.config import Settings
from medialib.errors import CredentialsUnavailable
from tests.bluesky.pds import Pds
from tests.conftest import RunningServer, isolated_server
from tests.publishing.conftest import bluesky_account


def test_another_workspaces_account_is_not_found(publisher: RunningServer, pds: Pds) -> None:
    with publisher.client() as mine, publisher.client() as theirs:
        account, _ = bluesky_account(mine, pds)
        path = f"/v1/accounts/{account['id']}"
        assert theirs.get(path).status_code == 404
        assert theirs.patch(path, json={"handle": "x.test"}).status_code == 404
        assert theirs.delete(path).status_code == 404
        assert theirs.get("/v1/accounts").json()["data"] == []
        scheduled = theirs.post(
            "/v1/posts",
            json={
                "text": "not yours",
                "targets": [{"platform": "bluesky", "account_id": account["id"]}],
                "scheduled_at": "2099-01-01T00:00:00Z",
            },
        )
        assert scheduled.status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        {"network": "myspace", "handle": "a"},
        {"network": "bluesky", "handle": "a.test", "credentials": {}},
        {"network": "x", "connector": "bluesky", "handle": "a"},
        {"network": "bluesky", "handle": "", "credentials": {"app_password": "x"}},
        {"network": "bluesky", "handle": "a", "credentials": {"app_password": "x" * 1001}},
        {"network": "bluesky", "handle": "a", "extra": 1},
        {"network": "bluesky", "handle": "a", "credentials": {f"k{i}": "v" for i in range(9)}},
    ],
)
def test_malformed_accounts_are_refused_with_a_clear_error(
    publisher: RunningServer, body: dict[str, object]
) -> None:
    with publisher.client() as api:
        answer = api.post("/v1/accounts", json=body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == "validation_error"
        assert api.get("/v1/accounts").json()["data"] == []


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_service_url_on_a_private_address_is_refused_before_any_call(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, backend: str
) -> None:
    with isolated_server(request, tmp_path_factory, backend) as server, server.client() as api:
        for url in (
            "http://127.0.0.1:9/",
            "https://10.0.0.1/",
            "https://[::1]/",
            "file:///etc/passwd",
        ):
            answer = api.post(
                "/v1/accounts",
                json={
                    "network": "bluesky",
                    "handle": "a.test",
                    "service_url": url,
                    "credentials": {"app_password": "x"},
                },
            )
            assert answer.status_code == 422, (url, answer.text)
            assert answer.json()["error"]["code"] == "url_not_allowed"


def test_an_account_a_scheduled_post_needs_cannot_be_removed(
    publisher: RunningServer, pds: Pds
) -> None:
    with publisher.client() as api:
        account, _ = bluesky_account(api, pds)
        post = api.post(
            "/v1/posts",
            json={
                "text": "later",
                "targets": [{"platform": "bluesky", "account_id": account["id"]}],
                "scheduled_at": "2099-01-01T00:00:00Z",
            },
        ).json()
        refused = api.delete(f"/v1/accounts/{account['id']}")
        assert refused.status_code == 409
        assert refused.json()["error"]["post_ids"] == [post["id"]]
        assert api.post(f"/v1/posts/{post['id']}/unschedule").status_code == 200
        assert api.delete(f"/v1/accounts/{account['id']}").status_code == 200


def test_sealed_credentials_open_only_with_their_key_and_their_row(tmp_path: object) -> None:
    sealer = Sealer("a" * 40)
    sealed = sealer.seal(b"hunter2", bound_to="acc_1")
    assert b"hunter2" not in sealed
    assert sealer.open(sealed, bound_to="acc_1") == b"hunter2"
    with pytest.raises(CredentialsUnavailable):
        sealer.open(sealed, bound_to="acc_2")  # copied onto another account
    with pytest.raises(CredentialsUnavailable):
        Sealer("b" * 40).open(sealed, bound_to="acc_1")  # another key
    with pytest.raises(CredentialsUnavailable):
        sealer.open(sealed[:-1] + bytes([sealed[-1] ^ 1]), bound_to="acc_1")  # tampered


def test_production_refuses_to_store_credentials_without_a_key(tmp_path: object) -> None:
    from pathlib import Path

    production = Settings(environment="production", data_dir=Path(str(tmp_path)))
    with pytest.raises(CredentialsUnavailable):
        sealer_for(production)
    keyed = Settings(environment="production", data_dir=Path(str(tmp_path)), secret_key="k" * 40)
    assert sealer_for(keyed).open(sealer_for(keyed).seal(b"x", bound_to="a"), bound_to="a") == b"x"
