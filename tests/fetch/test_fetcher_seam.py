"""The code that calls out, driven through the `Fetcher` seam with the fake (fetch/fake.py):
how providers and the Bluesky connector read every kind of answer, without a server.
The wire itself (deadlines, SSRF, bounded decoding) is tested against real loopback
servers in tests/media/test_import.py, tests/generate and tests/publishing; this file is
about what each caller makes of an answer, which the fake states exactly."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from medialib.config import Settings
from medialib.connectors.base import Refused, TryLater
from medialib.connectors.bluesky import Xrpc
from medialib.errors import GenerationFailed, ImportFailed, PayloadTooLarge, UrlNotAllowed
from medialib.fetch import Answer, FetchPolicy
from medialib.fetch.fake import FakeFetcher
from medialib.generate.providers import ChatEnhancer, Providers

BASE = "http://127.0.0.1:9/v1"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode()


def _json(status: int, body: Any, **headers: str) -> Answer:
    return Answer(status=status, headers=dict(headers), body=json.dumps(body).encode())


def _providers(fake: FakeFetcher, **settings: Any) -> Providers:
    configured = Settings(
        generate_images_url=BASE,
        generate_images_key="sk-test",
        generate_video_url=BASE,
        **settings,
    )
    return Providers(configured, fake)


def test_an_image_is_asked_with_the_key_and_read_from_base64() -> None:
    fake = FakeFetcher(
        {("POST", f"{BASE}/images/generations"): _json(200, {"data": [{"b64_json": PNG}]})}
    )
    made = _providers(fake).images().generate(prompt="a red fox", model="m1", size="1024x1024")
    assert made.data is not None and made.data.startswith(b"\x89PNG")
    (sent,) = fake.calls
    assert sent.headers["Authorization"] == "Bearer sk-test"
    assert json.loads(sent.body) == {
        "model": "m1",
        "prompt": "a red fox",
        "n": 1,
        "size": "1024x1024",
    }


@pytest.mark.parametrize(
    ("answer", "reason", "words"),
    [
        (_json(400, {"error": {"message": "Your prompt was flagged"}}), "provider", "flagged"),
        (_json(500, {"detail": "GPU pool exhausted"}), "provider", "GPU pool exhausted"),
        (Answer(200, {}, b"<html>gateway</html>"), "answer", "not JSON"),
        (_json(200, {"data": []}), None, "without an image"),
        (_json(200, {"data": [{"b64_json": "@@not base64@@"}]}), None, "not valid base64"),
        (ImportFailed("slow", reason="timeout"), "timeout", "did not answer in time"),
        (ImportFailed("refused", reason="network"), "network", "could not be reached"),
        (PayloadTooLarge(max_bytes=10, size=11), "answer", "too large"),
    ],
)
def test_every_kind_of_provider_answer_becomes_one_clear_failure(
    answer: Answer | Exception, reason: str | None, words: str
) -> None:
    fake = FakeFetcher({("POST", f"{BASE}/images/generations"): answer})
    with pytest.raises(GenerationFailed) as failed:
        _providers(fake).images().generate(prompt="p", model="m", size="1024x1024")
    assert words in failed.value.message
    assert failed.value.details.get("reason") == reason
    if isinstance(answer, Answer) and answer.status >= 400:
        assert failed.value.details["provider_status"] == answer.status


def test_a_providers_id_goes_back_as_one_escaped_path_segment() -> None:
    fake = FakeFetcher(
        {
            ("POST", f"{BASE}/predictions"): _json(201, {"id": "a/../../admin?x=1"}),
            ("GET", f"{BASE}/predictions/a%2F..%2F..%2Fadmin%3Fx%3D1"): _json(
                200, {"status": "succeeded", "output": ["https://cdn.example/v.mp4"]}
            ),
        }
    )
    videos = _providers(fake).videos()
    started = videos.start(prompt="waves", model="v1", aspect_ratio="9:16")
    done = videos.poll(started)
    assert done.finished and done.output_url == "https://cdn.example/v.mp4"
    assert json.loads(fake.calls[0].body)["input"] == {"prompt": "waves", "aspect_ratio": "9:16"}
    with pytest.raises(GenerationFailed, match="unusable id"):
        videos.poll("..")


def test_a_provider_that_is_not_configured_is_said_so_before_any_call() -> None:
    fake = FakeFetcher()
    with pytest.raises(GenerationFailed, match="no longer configured"):
        Providers(Settings(generate_images_url=None), fake).images()
    assert fake.calls == []


def test_the_enhancer_reads_the_chat_answer_and_bounds_it() -> None:
    fake = FakeFetcher(
        {
            ("POST", f"{BASE}/chat/completions"): _json(
                200, {"choices": [{"message": {"content": "  x" * 5000}}]}
            )
        }
    )
    enhancer = ChatEnhancer(BASE, None, model="chat", timeout_seconds=5, fetcher=fake)
    text = enhancer.enhance("a fox", style="watercolour")
    assert len(text) <= 4000 and text.startswith("x")
    assert "Authorization" not in fake.calls[0].headers  # no key configured: none sent


def test_the_fake_refuses_a_url_the_policy_refuses_as_the_real_one_does() -> None:
    strict = FetchPolicy(allow_http=False)
    with pytest.raises(UrlNotAllowed):
        FakeFetcher().call("GET", "http://example.com/x", strict, max_bytes=10)


@pytest.mark.parametrize(
    ("answer", "expected", "code"),
    [
        (
            _json(429, {"error": "RateLimitExceeded"}, **{"retry-after": "7"}),
            TryLater,
            "network_busy",
        ),
        (_json(502, {"error": "UpstreamFailure"}), TryLater, "network_error"),
        (ImportFailed("slow", reason="timeout"), TryLater, "network_unreachable"),
        (_json(400, {"error": "InvalidRequest", "message": "Record too big"}), Refused, None),
        (PayloadTooLarge(max_bytes=1, size=2), Refused, "payload_too_large"),
    ],
)
def test_bluesky_answers_are_retried_or_refused_by_their_kind(
    answer: Answer | Exception, expected: type[Exception], code: str | None
) -> None:
    policy = FetchPolicy(allow_http=True, public_only=False)
    url = "http://127.0.0.1:9/xrpc/com.atproto.repo.createRecord"
    fake = FakeFetcher({("POST", url): answer})
    xrpc = Xrpc("http://127.0.0.1:9", policy, fetcher=fake)
    with pytest.raises(expected) as failed:
        xrpc.call("POST", "com.atproto.repo.createRecord", token="t", body={"a": 1})
    if code is not None:
        assert getattr(failed.value, "code", None) == code
    if isinstance(failed.value, TryLater) and isinstance(answer, Answer) and answer.status == 429:
        assert failed.value.retry_after == 7
    if expected is Refused and isinstance(answer, Answer):
        assert "Record too big" in (failed.value.network_answer or "")  # type: ignore[attr-defined]
    assert fake.calls[0].headers["Authorization"] == "Bearer t"
