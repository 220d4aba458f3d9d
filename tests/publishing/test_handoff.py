"""Hand-off: at a post's moment the user's own publisher gets a signed `post.due` webhook
with the plan, fetches every file by its URL, checks its SHA-256, and reports the result
back; no result in time fails the target `no_result`."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import pyvips
from standardwebhooks.webhooks import Webhook

from medialib import clock
from medialib.gc import collect_garbage
from tests import mediafiles
from tests.conftest import RunningServer, isolated_server
from tests.helpers import eventually
from tests.publishing.conftest import ready_media, schedule, settled


@dataclass
class Publisher:
    """The user's own publisher, on loopback: verifies each delivery's signature with the
    Standard Webhooks reference library and hands the events to `on_due`."""

    url: str
    secret: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)
    on_due: Callable[[dict[str, Any]], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        with self.lock:
            return [event for event in self.events if event["type"] == kind]


@pytest.fixture
def receiver() -> Iterator[Publisher]:
    state: dict[str, Publisher] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            publisher = state["p"]
            headers = {name.lower(): value for name, value in self.headers.items()}
            event: dict[str, Any] = Webhook(publisher.secret).verify(body, headers)
            with publisher.lock:
                publisher.events.append(event)
            self.send_response(204)
            self.end_headers()
            if event["type"] == "post.due" and publisher.on_due is not None:
                threading.Thread(target=publisher.on_due, args=(event["data"],)).start()

        def log_message(self, *_: Any) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["p"] = Publisher(url=f"http://127.0.0.1:{http.server_address[1]}/hooks")
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield state["p"]
    http.shutdown()
    http.server_close()


def _subscribe(api: httpx.Client, receiver: Publisher) -> None:
    answer = api.post(
        "/v1/webhooks",
        json={"url": receiver.url, "events": ["post.due", "post.published", "post.failed"]},
    )
    assert answer.status_code == 201, answer.text
    receiver.secret = answer.json()["secret"]


def _handoff_account(api: httpx.Client, network: str = "instagram") -> dict[str, Any]:
    answer = api.post("/v1/accounts", json={"network": network, "handle": "acme.shop"})
    assert answer.status_code == 201, answer.text
    account: dict[str, Any] = answer.json()
    assert account["connector"] == "handoff" and account["has_credentials"] is False
    return account


def test_a_handed_off_post_reaches_the_publisher_and_its_result_comes_back(
    api: httpx.Client, files: Path, receiver: Publisher
) -> None:
    _subscribe(api, receiver)
    account = _handoff_account(api)
    photo = ready_media(api, files / "photo.jpg", description="A red square")
    checked: list[str] = []

    def publish(data: dict[str, Any]) -> None:
        for file in data["files"]:
            body = httpx.get(file["url"], timeout=10).content
            assert hashlib.sha256(body).hexdigest() == file["sha256"]
            assert len(body) == file["size"]
            checked.append(file["url"])
        report = {
            "status": "published",
            "remote_id": "ig-17890001",
            "remote_url": "https://www.instagram.com/p/Cabc/",
        }
        answer = api.post(data["result_url"], json=report)
        assert answer.status_code == 200, answer.text

    receiver.on_due = publish
    post = schedule(
        api,
        text="Handed over",
        targets=[{"platform": "instagram", "account_id": account["id"]}],
        media=[{"media_id": photo["id"]}],
    )
    done = settled(api, post["id"])
    assert done["status"] == "published"
    target = done["targets"][0]
    assert (target["remote_id"], target["remote_url"]) == (
        "ig-17890001",
        "https://www.instagram.com/p/Cabc/",
    )
    [due] = receiver.of_type("post.due")
    assert due["data"]["target_id"] == target["id"] and due["data"]["form"]
    [file] = due["data"]["files"]
    assert file["alt_text"] == "A red square" and file["width"] and file["content_type"]
    assert checked == [file["url"]]
    published = eventually(lambda: receiver.of_type("post.published"), what="post.published")
    assert published[0]["data"]["targets"][0]["remote_id"] == "ig-17890001"
    # The same report again is a no-op; another answers 409; another workspace's is 404.
    again = {"status": "published", "remote_id": "ig-17890001"}
    path = f"/v1/posts/{post['id']}/targets/{target['id']}/result"
    assert api.post(path, json=again).status_code == 200
    other = {"status": "failed", "error": {"message": "changed my mind"}}
    assert api.post(path, json=other).status_code == 409


def _subject_right(path: Path) -> Path:
    """A 16:9 photo of a plain dark room with its subject (a busy, saturated patch) near
    the right edge: a centre cut loses it; a cut around the subject keeps it."""
    room = (pyvips.Image.black(1600, 900, bands=3) + [30, 34, 40]).cast("uchar")  # noqa: RUF005
    noise = pyvips.Image.gaussnoise(300, 300, mean=120, sigma=90)
    subject = noise.bandjoin([noise * 0.2, noise * 0.1]).cast("uchar")
    room.insert(subject, 1250, 300).copy(interpretation="srgb").jpegsave(str(path), Q=92)
    return path


def test_a_carousel_goes_out_at_its_first_items_ratio_cut_around_each_subject(
    api: httpx.Client, publisher: RunningServer, tmp_path: Path, receiver: Publisher
) -> None:
    """Instagram shows every carousel item at the first item's ratio and cuts the others'
    centres itself: medialib cuts each later still to that ratio around its subject as the
    post goes, hands those files over, and the plan says what it cut."""
    _subscribe(api, receiver)
    account = _handoff_account(api)
    portrait = ready_media(api, mediafiles.jpeg(tmp_path / "first.jpg", 800, 1000))
    wide = ready_media(api, _subject_right(tmp_path / "wide.jpg"))
    square = ready_media(api, mediafiles.jpeg(tmp_path / "square.jpg", 900, 900))
    handed: list[dict[str, Any]] = []

    def publish(data: dict[str, Any]) -> None:
        for file in data["files"]:
            body = httpx.get(file["url"], timeout=10).content
            assert hashlib.sha256(body).hexdigest() == file["sha256"]
            shown = pyvips.Image.new_from_buffer(body, "")
            assert (shown.width, shown.height) == (file["width"], file["height"])
            handed.append(file)
        report = {"status": "published", "remote_id": "ig-carousel-1"}
        assert api.post(data["result_url"], json=report).status_code == 200

    receiver.on_due = publish
    post = schedule(
        api,
        text="Three shapes, one carousel",
        targets=[{"platform": "instagram", "account_id": account["id"]}],
        media=[{"media_id": m["id"]} for m in (portrait, wide, square)],
    )
    assert settled(api, post["id"])["status"] == "published"
    assert len(handed) == 3
    for file in handed:
        assert abs(file["width"] / file["height"] - 0.8) <= 0.01, file
    # The wide photo's cut keeps its subject (x 1250-1550), which a centre cut (x 440-1160)
    # would lose.
    cut = handed[1]["crop"]
    assert cut["left"] <= 1250 and cut["left"] + cut["width"] >= 1550, cut
    plan = api.get(f"/v1/posts/{post['id']}/plan").json()["targets"][0]
    items = {m["media_id"]: m for m in plan["media"]}
    for media in (wide, square):
        item = items[media["id"]]
        assert item["send"] == "variant" and item["url"] in [f["url"] for f in handed]
        note = next(r for r in item["reasons"] if r["code"] == "carousel_ratio")
        assert note["fix"] == "crop" and "cut this one" in note["message"]
    assert "carousel_ratio" not in [r["code"] for r in items[portrait["id"]]["reasons"]]
    # The post's cuts are its own: gc keeps them while it is there and reclaims them once
    # it is deleted (past the hour's grace every stored object gets).
    cuts = [f["url"] for f in handed[1:]]
    with clock.shifted(dt.timedelta(hours=2)):
        collect_garbage(publisher.state.runtime)
    assert all(httpx.get(url).status_code == 200 for url in cuts)
    assert api.delete(f"/v1/posts/{post['id']}").status_code == 200
    with clock.shifted(dt.timedelta(hours=2)):
        collect_garbage(publisher.state.runtime)
    assert all(httpx.get(url).status_code == 404 for url in cuts)
    assert httpx.get(handed[0]["url"]).status_code == 200  # the media's own file stays


def test_results_are_refused_unless_well_formed_owned_and_handed_off(
    api: httpx.Client, publisher: RunningServer, files: Path
) -> None:
    account = _handoff_account(api)
    post = api.post(
        "/v1/posts",
        json={"text": "x", "targets": [{"platform": "instagram", "account_id": account["id"]}]},
    ).json()
    target = post["targets"][0]["id"]
    path = f"/v1/posts/{post['id']}/targets/{target}/result"
    for body in (
        {"status": "published"},  # no remote id
        {"status": "failed"},  # no error
        {"status": "gone"},
        {"status": "published", "remote_id": "1", "remote_url": "javascript:alert(1)"},
        {"status": "published", "remote_id": "x" * 401},
    ):
        assert api.post(path, json=body).status_code == 422, body
    assert api.post(path, json={"status": "published", "remote_id": "1"}).status_code == 409
    with publisher.client() as stranger:
        answer = stranger.post(path, json={"status": "published", "remote_id": "1"})
        assert answer.status_code == 404
    assert (
        httpx.post(
            publisher.base_url + path, json={"status": "published", "remote_id": "1"}
        ).status_code
        == 401
    )


@pytest.mark.parametrize("backend", ["sqlite"])
def test_no_result_in_time_fails_the_target_and_try_again_hands_it_off_again(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    backend: str,
    receiver: Publisher,
) -> None:
    with (
        isolated_server(
            request,
            tmp_path_factory,
            backend,
            allow_loopback_targets=True,
            import_allow_http=True,
            handoff_timeout=1.0,
        ) as server,
        server.client() as api,
    ):
        _subscribe(api, receiver)
        account = _handoff_account(api, network="linkedin")
        post = schedule(
            api,
            text="Nobody answers",
            targets=[{"platform": "linkedin", "account_id": account["id"]}],
        )
        done = settled(api, post["id"])
        assert done["status"] == "failed"
        error = done["targets"][0]["error"]
        assert error["code"] == "no_result" and error["retryable"] is True
        failed = eventually(lambda: receiver.of_type("post.failed"), what="post.failed")
        assert failed[0]["data"]["targets"][0]["status"] == "failed"
        target = done["targets"][0]["id"]
        retried = api.post(f"/v1/posts/{post['id']}/targets/{target}/retry")
        assert retried.status_code == 200 and retried.json()["status"] == "publishing"
        eventually(
            lambda: receiver.of_type("post.due"),
            lambda due: len(due) == 2,
            what="a second post.due",
        )
        answer = api.post(
            f"/v1/posts/{post['id']}/targets/{target}/result",
            json={
                "status": "failed",
                "error": {"message": "Page not found", "network_answer": json.dumps({"code": 100})},
            },
        )
        assert answer.status_code == 200
        assert answer.json()["targets"][0]["error"]["network_answer"] == '{"code": 100}'
        assert api.post(f"/v1/posts/{post['id']}/targets/{target}/retry").status_code == 200
        assert api.post(f"/v1/posts/{post['id']}/targets/{target}/retry").status_code == 409
