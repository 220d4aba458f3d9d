"""Webhooks delivered to a real HTTP receiver on loopback, every delivery verified with the
`standardwebhooks` package (the reference implementation of the signing scheme)."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from medialib import clock
from medialib.gc import collect_garbage
from tests.conftest import RunningServer, free_port
from tests.helpers import error_of, eventually, put_bytes, request_upload, upload_file, wait_settled
from tests.webhooks.conftest import Receiver


def _add(api: httpx.Client, url: str, events: list[str] | None = None) -> dict[str, Any]:
    answer = api.post("/v1/webhooks", json={"url": url, "events": events or []})
    assert answer.status_code == 201, answer.text
    endpoint: dict[str, Any] = answer.json()
    assert endpoint["secret"].startswith("whsec_") and endpoint["enabled"] is True
    return endpoint


def _settled_log(api: httpx.Client, endpoint_id: str, timeout: float = 15) -> dict[str, Any]:
    """The delivery log once no delivery is pending (the receiver hears a delivery a moment
    before medialib records its answer)."""
    log: dict[str, Any] = eventually(
        lambda: api.get(f"/v1/webhooks/{endpoint_id}/deliveries").json(),
        lambda log: all(d["status"] != "pending" for d in log["data"]),
        timeout=timeout,
        what="every delivery settled",
    )
    return log


def _verified(secret: str, delivery: tuple[dict[str, str], bytes]) -> dict[str, Any]:
    headers, body = delivery
    payload: dict[str, Any] = Webhook(secret).verify(body, headers)
    return payload


def test_a_ready_media_is_announced_with_a_verifiable_signature(
    api: httpx.Client, receiver: Receiver, files: Path
) -> None:
    endpoint = _add(api, receiver.url)
    media = upload_file(api, files / "photo.jpg")
    delivery = receiver.wait_for(1)[0]
    event = _verified(endpoint["secret"], delivery)
    assert event["type"] == "media.ready" and event["data"]["id"] == media["id"]
    assert event["data"]["status"] == "ready" and delivery[0]["webhook-id"].startswith("msg_")
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 32).verify(delivery[1], delivery[0])
    log = _settled_log(api, endpoint["id"])
    assert log["pagination"]["total"] == 1
    entry = log["data"][0]
    assert entry["status"] == "succeeded" and entry["attempts"] == 1
    assert entry["last_status_code"] == 200 and entry["id"] == delivery[0]["webhook-id"]
    listed = api.get("/v1/webhooks").json()["data"]
    assert [e["id"] for e in listed] == [endpoint["id"]] and listed[0]["secret"] is None


def test_each_lifecycle_event_reaches_endpoints_that_want_it(
    hook_server: RunningServer, api: httpx.Client, receiver: Receiver, files: Path
) -> None:
    everything = _add(api, receiver.url)
    deleted_only = _add(api, receiver.url + "?only=deleted", ["media.deleted"])
    photo = upload_file(api, files / "photo.jpg")
    upload = request_upload(api, filename="page.jpg")
    put_bytes(upload, (files / "page.html").read_bytes())
    assert api.post(f"/v1/media/{upload['id']}/confirm").status_code == 415
    assert api.delete(f"/v1/media/{photo['id']}").status_code == 200
    collect_garbage(hook_server.state.runtime, now=clock.utcnow() + dt.timedelta(days=31))
    received = receiver.wait_for(5)
    time.sleep(0.5)  # nothing more should come
    assert len(receiver.received) == 5
    to_all = [
        _verified(everything["secret"], d) for d in received if _is_for(d, everything["secret"])
    ]
    assert sorted(e["type"] for e in to_all) == [
        "media.deleted",
        "media.failed",
        "media.purged",
        "media.ready",
    ]
    failed = next(e for e in to_all if e["type"] == "media.failed")
    assert failed["data"]["id"] == upload["id"] and failed["data"]["error"]["code"]
    to_one = [d for d in received if _is_for(d, deleted_only["secret"])]
    assert [_verified(deleted_only["secret"], d)["type"] for d in to_one] == ["media.deleted"]


def _is_for(delivery: tuple[dict[str, str], bytes], secret: str) -> bool:
    try:
        Webhook(secret).verify(delivery[1], delivery[0])
    except WebhookVerificationError:
        return False
    return True


def test_failed_attempts_are_retried_with_the_same_id(
    api: httpx.Client, receiver: Receiver, files: Path
) -> None:
    endpoint = _add(api, receiver.url)
    receiver.answers = [500, 503]
    receiver.body = b"busy: " + b"x" * 3000  # only its start is kept
    upload_file(api, files / "photo.jpg")
    attempts = receiver.wait_for(3)
    assert len({headers["webhook-id"] for headers, _ in attempts}) == 1
    log = _settled_log(api, endpoint["id"])["data"]
    assert log[0]["status"] == "succeeded" and log[0]["attempts"] == 3
    # Every attempt is in the log: when, its answer, how long, the start of its body.
    tried = log[0]["attempt_log"]
    assert [a["status_code"] for a in tried] == [500, 503, 200]
    assert all(a["body_excerpt"].startswith("busy: ") for a in tried)
    assert all(len(a["body_excerpt"]) <= 1000 and a["duration_ms"] >= 0 for a in tried)
    assert tried[0]["at"] <= tried[1]["at"] <= tried[2]["at"]


def test_an_unreachable_endpoints_attempts_say_why(api: httpx.Client, files: Path) -> None:
    endpoint = _add(api, f"http://127.0.0.1:{free_port()}/nobody-listens")
    upload_file(api, files / "photo.jpg")

    def first_attempt() -> list[dict[str, Any]]:
        data = api.get(f"/v1/webhooks/{endpoint['id']}/deliveries").json()["data"]
        return data[0]["attempt_log"] if data else []

    attempt = eventually(first_attempt, bool, timeout=30, what="an attempt")[0]
    assert attempt["status_code"] is None and "could not be reached" in attempt["error"]
    assert attempt["body_excerpt"] is None


def test_an_endpoint_that_keeps_failing_is_disabled_and_can_be_enabled(
    api: httpx.Client, receiver: Receiver, files: Path
) -> None:
    endpoint = _add(api, receiver.url)
    receiver.always = 500
    for name in ("a.jpg", "b.jpg"):
        upload_file(api, files / "photo.jpg", filename=name)
    receiver.wait_for(6)  # two deliveries, three attempts each, then given up
    eventually(
        lambda: api.get("/v1/webhooks").json()["data"][0]["enabled"],
        lambda enabled: not enabled,
        what="the endpoint disabled",
    )
    statuses = {d["status"] for d in _settled_log(api, endpoint["id"])["data"]}
    assert statuses == {"failed"}
    upload_file(api, files / "photo.jpg", filename="c.jpg")
    time.sleep(0.5)
    assert len(receiver.received) == 6  # nothing is sent to a disabled endpoint
    receiver.always = None
    enabled = api.post(f"/v1/webhooks/{endpoint['id']}/enable").json()
    assert enabled["enabled"] is True and enabled["failures_in_a_row"] == 0


def test_a_rotated_secret_keeps_signing_beside_the_new_one(
    api: httpx.Client, receiver: Receiver, files: Path
) -> None:
    old = _add(api, receiver.url)
    new = api.post(f"/v1/webhooks/{old['id']}/rotate-secret").json()
    assert new["secret"] != old["secret"]
    upload_file(api, files / "photo.jpg")
    delivery = receiver.wait_for(1)[0]
    assert len(delivery[0]["webhook-signature"].split(" ")) == 2
    assert _verified(old["secret"], delivery)["type"] == "media.ready"
    assert _verified(new["secret"], delivery)["type"] == "media.ready"


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::ffff:10.0.0.1]/hook",
        "http://user:pw@127.0.0.1/hook",
        "ftp://127.0.0.1/hook",
        "not a url",
    ],
)
def test_private_and_odd_targets_are_refused(api: httpx.Client, url: str) -> None:
    answer = api.post("/v1/webhooks", json={"url": url})
    assert answer.status_code == 422 and error_of(answer)["code"] == "url_not_allowed"


def test_unknown_events_and_other_workspaces_endpoints(
    hook_server: RunningServer, api: httpx.Client, receiver: Receiver
) -> None:
    bad = api.post("/v1/webhooks", json={"url": receiver.url, "events": ["media.exploded"]})
    assert bad.status_code == 422 and error_of(bad)["unknown"] == ["media.exploded"]
    endpoint = _add(api, receiver.url)
    with httpx.Client(
        base_url=hook_server.base_url,
        headers={"Authorization": f"Bearer {hook_server.new_key()}"},
    ) as other:
        assert other.get(f"/v1/webhooks/{endpoint['id']}/deliveries").status_code == 404
        assert other.delete(f"/v1/webhooks/{endpoint['id']}").status_code == 404
        assert other.get("/v1/webhooks").json()["data"] == []
    assert api.delete(f"/v1/webhooks/{endpoint['id']}").json()["deleted"] is True
    assert json.loads(api.get("/v1/webhooks").text)["data"] == []


def test_slow_receivers_never_hold_up_processing(
    hook_server: RunningServer, api: httpx.Client, receiver: Receiver, files: Path
) -> None:
    """Webhooks have threads of their own: receivers that take their time answering
    hold those, never the threads that process media."""
    _add(api, receiver.url)
    receiver.delay = 8.0
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        upload_file(api, files / "photo.jpg", filename=name)
    receiver.wait_for(2)  # both webhook threads are now held by the receiver
    started = time.monotonic()
    video = upload_file(api, files / "clip.mp4")
    assert wait_settled(api, video["id"])["status"] == "ready"
    assert time.monotonic() - started < 6.0


def test_an_endpoint_is_paused_resumed_narrowed_and_a_delivery_sent_again(
    api: httpx.Client, receiver: Receiver, files: Path
) -> None:
    endpoint = _add(api, receiver.url)
    paused = api.patch(f"/v1/webhooks/{endpoint['id']}", json={"enabled": False})
    assert paused.status_code == 200 and paused.json()["enabled"] is False
    upload_file(api, files / "photo.jpg", filename="while-paused.jpg")
    time.sleep(1)
    assert receiver.received == []  # a paused endpoint gets nothing
    narrowed = api.patch(
        f"/v1/webhooks/{endpoint['id']}", json={"enabled": True, "events": ["media.deleted"]}
    ).json()
    assert narrowed["enabled"] is True and narrowed["events"] == ["media.deleted"]
    media = upload_file(api, files / "alpha.png")
    wait_settled(api, media["id"])
    api.delete(f"/v1/media/{media['id']}")
    first = receiver.wait_for(1)[0]
    assert json.loads(first[1])["type"] == "media.deleted"
    [logged] = _settled_log(api, endpoint["id"])["data"]
    again = api.post(f"/v1/webhooks/{endpoint['id']}/deliveries/{logged['id']}/resend")
    assert again.status_code == 202 and again.json()["id"] != logged["id"]
    second = receiver.wait_for(2)[1]
    assert second[0]["webhook-id"] == again.json()["id"]
    assert _verified(endpoint["secret"], second)["data"]["id"] == media["id"]
    assert _settled_log(api, endpoint["id"])["pagination"]["total"] == 2
    for bad in ({"events": ["media.exploded"]}, {"enabled": "maybe"}, {"url": "http://x"}):
        answer = api.patch(f"/v1/webhooks/{endpoint['id']}", json=bad)
        assert answer.status_code == 422 and error_of(answer)["code"] == "validation_error"
    missing = api.post(f"/v1/webhooks/{endpoint['id']}/deliveries/msg_nope/resend")
    assert missing.status_code == 404
    api.patch(f"/v1/webhooks/{endpoint['id']}", json={"enabled": False})
    refused = api.post(f"/v1/webhooks/{endpoint['id']}/deliveries/{logged['id']}/resend")
    assert refused.status_code == 409 and error_of(refused)["code"] == "invalid_state"


def test_a_webhook_endpoint_is_added_once_under_one_key(
    api: httpx.Client, receiver: Receiver
) -> None:
    body = {"url": receiver.url}
    key = {"Idempotency-Key": "hook-once"}
    first = api.post("/v1/webhooks", json=body, headers=key)
    again = api.post("/v1/webhooks", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true" and again.json() == first.json()
    listed = api.get("/v1/webhooks").json()["data"]
    assert [e["id"] for e in listed].count(first.json()["id"]) == 1 and len(listed) == 1
