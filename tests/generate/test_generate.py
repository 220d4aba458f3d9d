"""AI generation over real HTTP against a fake provider on loopback (tests/generate/
fake_provider.py: no real provider can be reached here, so it speaks each provider's API
as documented and renders real media). Covers the image and video flows into the
library, the provider's errors, time-outs, a result URL on a private address, a result
that is not an image, the daily limit, Idempotency-Key, enhancement and bad requests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.conftest import RunningServer, isolated_server
from tests.generate.fake_provider import KEY, FakeProvider, fake_provider, settings_for
from tests.helpers import PeakMemory, error_of, eventually, wait_settled

PER_DAY = 6


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeProvider]:
    with fake_provider(tmp_path_factory.mktemp("provider")) as running:
        yield running


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def gen_server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    provider: FakeProvider,
) -> Iterator[RunningServer]:
    """Its own database: no other server's workers (without a provider) take its jobs.
    Loopback is allowed so the fake provider's result URLs can be fetched."""
    with isolated_server(
        request,
        tmp_path_factory,
        request.param,
        **settings_for(
            provider,
            generate_video_models=["fake-video-1", "fake-video-2"],
            generate_per_day=PER_DAY,
            generate_request_seconds=2.0,
            generate_video_deadline_seconds=3.0,
        ),
    ) as server:
        yield server


@pytest.fixture
def gen(gen_server: RunningServer) -> Iterator[httpx.Client]:
    with gen_server.client() as client:
        yield client


def _start(api: httpx.Client, **body: Any) -> dict[str, Any]:
    answer = api.post("/v1/generations", json=body)
    assert answer.status_code == 202, answer.text
    started: dict[str, Any] = answer.json()
    return started


def _settled_generation(api: httpx.Client, generation_id: str) -> dict[str, Any]:
    found: dict[str, Any] = eventually(
        lambda: next(
            g for g in api.get("/v1/generations").json()["data"] if g["id"] == generation_id
        ),
        lambda g: g["status"] != "pending",
        timeout=30,
        what="the generation to end",
    )
    return found


def test_an_image_is_generated_into_the_library(gen: httpx.Client, provider: FakeProvider) -> None:
    started = _start(gen, prompt="A lighthouse at dusk", style="cinematic", aspect_ratio="4:5")
    media = gen.get(f"/v1/media/{started['media_id']}").json()
    assert media["status"] in ("processing", "ready") and "ai-generated" in media["tags"]
    ready = wait_settled(gen, started["media_id"])
    assert ready["status"] == "ready" and ready["kind"] == "image"
    # 4:5 asks the provider for its nearest size (1024x1536), then is cut to 4:5 at the
    # picture's focal point, and says so.
    assert (ready["width"], ready["height"]) == (1024, 1280)
    fitted = ready["metadata"]["generation"]["fitted"]
    assert fitted == {"asked": "4:5", "from": "1024x1536", "to": "1024x1280",
                      "how": "cropped at its focal point"}  # fmt: skip
    assert ready["filename"].startswith("ai-image-a-lighthouse-at-dusk") and ready[
        "filename"
    ].endswith(".png")
    generation = ready["metadata"]["generation"]
    assert generation["prompt"] == "A lighthouse at dusk" and generation["style"] == "cinematic"
    assert generation["model"] == "fake-image-1" and generation["provider"] == "openai-images"
    sent = [b for b in provider.bodies("/v1/images/generations") if "lighthouse" in b["prompt"]][-1]
    assert sent["size"] == "1024x1536" and sent["model"] == "fake-image-1"
    assert "cinematic" in sent["prompt"]
    ours = [r for r in provider.requests if "lighthouse" in str(r["body"])]
    assert ours and all(r["auth"] == f"Bearer {KEY}" for r in ours)
    listed = _settled_generation(gen, started["id"])
    assert listed["status"] == "succeeded" and listed["media"]["id"] == started["media_id"]
    assert "ai-generated" in listed["media"]["tags"]
    thumbnail = httpx.get(ready["thumbnail_url"])
    assert thumbnail.status_code == 200
    original = httpx.get(ready["url"])  # stored, and served, as the type it is
    assert original.status_code == 200
    assert original.headers["content-type"] == "image/png"


def test_a_result_url_is_fetched_through_the_safe_fetcher(gen: httpx.Client) -> None:
    started = _start(gen, prompt="a url result", aspect_ratio="16:9")
    ready = wait_settled(gen, started["media_id"])
    assert ready["status"] == "ready" and (ready["width"], ready["height"]) == (1536, 864)


@pytest.mark.parametrize(
    ("prompt", "words"),
    [
        ("please refuse this", "safety system"),
        ("a slow one", "in time"),
        ("private address please", "not public"),
        ("notimage bytes", "not a supported"),
    ],
)
def test_a_failed_generation_ends_failed_with_the_reason(
    gen: httpx.Client, prompt: str, words: str
) -> None:
    started = _start(gen, prompt=prompt)
    media = wait_settled(gen, started["media_id"])
    assert media["status"] == "failed"
    assert words in media["error"]["message"]
    ended = _settled_generation(gen, started["id"])
    assert ended["status"] == "failed" and words in ended["error"]["message"]


def test_a_video_is_generated_through_a_prediction(
    gen: httpx.Client, provider: FakeProvider
) -> None:
    started = _start(
        gen, kind="video", prompt="waves on a beach", model="fake-video-2", aspect_ratio="9:16"
    )
    ready = wait_settled(gen, started["media_id"], timeout=60)
    assert ready["status"] == "ready" and ready["kind"] == "video" and ready["duration_ms"] >= 900
    assert ready["filename"].endswith(".mp4")
    # The provider's clip came back 4:3; it is cut to the 9:16 asked for, and says so.
    width, height = ready["width"], ready["height"]
    assert abs(width - height * 9 / 16) <= 2, (width, height)  # even sides, as 4:2:0 needs
    assert ready["metadata"]["generation"]["fitted"]["asked"] == "9:16"
    created = [b for b in provider.bodies("/v1/predictions") if "waves" in b["input"]["prompt"]][-1]
    assert created["model"] == "fake-video-2" and created["input"]["aspect_ratio"] == "9:16"


@pytest.mark.parametrize(
    ("prompt", "words"), [("fail please", "could not render"), ("never ends", "in time")]
)
def test_a_video_prediction_that_fails_or_never_ends(
    gen: httpx.Client, prompt: str, words: str
) -> None:
    started = _start(gen, kind="video", prompt=prompt)
    media = wait_settled(gen, started["media_id"], timeout=60)
    assert media["status"] == "failed" and words in media["error"]["message"]


def test_the_daily_limit_answers_429_with_retry_after(gen: httpx.Client) -> None:
    for n in range(PER_DAY):
        _start(gen, prompt=f"number {n}")
    over = gen.post("/v1/generations", json={"prompt": "one too many"})
    assert over.status_code == 429 and error_of(over)["code"] == "rate_limited"
    assert 0 < int(over.headers["Retry-After"]) <= 86400
    usage = gen.get("/v1/usage").json()
    assert usage["generations_today"] == PER_DAY and usage["generations_per_day"] == PER_DAY
    assert gen.get("/v1/generate").json()["used_today"] == PER_DAY


def test_an_idempotency_key_makes_one_generation(gen: httpx.Client) -> None:
    headers = {"Idempotency-Key": "gen-once-1"}
    first = gen.post("/v1/generations", json={"prompt": "just once"}, headers=headers)
    again = gen.post("/v1/generations", json={"prompt": "just once"}, headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert (
        len([g for g in gen.get("/v1/generations").json()["data"] if g["prompt"] == "just once"])
        == 1
    )


def test_options_enhancement_and_bad_requests(gen: httpx.Client) -> None:
    options = gen.get("/v1/generate").json()
    assert options["image"] == {"enabled": True, "models": ["fake-image-1"]}
    assert options["video"]["models"] == ["fake-video-1", "fake-video-2"]
    assert options["enhance"] is True and "cinematic" in options["styles"]
    enhanced = gen.post("/v1/generate/enhance", json={"prompt": "a cat", "style": "minimal"})
    assert enhanced.status_code == 200 and enhanced.json()["prompt"].startswith("Enhanced: a cat")
    for bad in (
        {"prompt": ""},
        {"prompt": "x" * 4001},
        {"prompt": "a", "aspect_ratio": "3:1"},
        {"prompt": "a", "style": "baroque"},
        {"prompt": "a", "kind": "audio"},
        {"prompt": "a", "model": "other-model"},
        {"prompt": "a", "kind": "video", "model": "fake-video-9"},
        {"prompt": "a", "extra": 1},
    ):
        answer = gen.post("/v1/generations", json=bad)
        assert answer.status_code == 422 and error_of(answer)["code"] == "validation_error", bad
    assert gen.post("/v1/generate/enhance", json={"prompt": ""}).status_code == 422


def test_without_a_provider_nothing_is_offered(api: httpx.Client) -> None:
    options = api.get("/v1/generate").json()
    assert options["image"]["enabled"] is False and options["video"]["enabled"] is False
    refused = api.post("/v1/generations", json={"prompt": "a cat"})
    assert refused.status_code == 409 and error_of(refused)["code"] == "generation_unavailable"
    assert api.post("/v1/generate/enhance", json={"prompt": "a cat"}).status_code == 409
    assert api.get("/v1/media").json()["data"] == []  # nothing was made


def test_generations_of_another_workspace_are_not_listed(
    gen_server: RunningServer, gen: httpx.Client
) -> None:
    started = _start(gen, prompt="mine alone")
    with gen_server.client() as other:
        assert all(g["id"] != started["id"] for g in other.get("/v1/generations").json()["data"])
        assert other.get(f"/v1/media/{started['media_id']}").status_code == 404


def test_a_trickling_provider_is_cut_at_the_deadline_and_never_holds_the_api(
    gen: httpx.Client, gen_server: RunningServer
) -> None:
    """Each byte well inside a per-read time-out: only the overall deadline (2 s here)
    ends the call, in the providers' own pool, while the API's other routes answer."""
    with ThreadPoolExecutor(max_workers=12) as pool:
        calls = [
            pool.submit(gen.post, "/v1/generate/enhance", json={"prompt": f"trickle {n}"})
            for n in range(12)
        ]
        time.sleep(0.3)
        started = time.monotonic()
        assert gen.get("/v1/media").status_code == 200
        assert httpx.get(f"{gen_server.base_url}/readyz").status_code == 200
        assert time.monotonic() - started < 2  # not queued behind the slow calls
        answers = [call.result(timeout=30) for call in calls]
    statuses = sorted(answer.status_code for answer in answers)
    assert set(statuses) <= {502, 503}, statuses
    assert 503 in statuses  # one workspace holds only its share of the pool
    slow = next(a for a in answers if a.status_code == 502)
    assert error_of(slow)["reason"] == "timeout"
    assert max(a.elapsed.total_seconds() for a in answers) < 15


def test_a_compression_bomb_from_a_provider_is_cut_without_filling_memory(
    gen: httpx.Client,
) -> None:
    with PeakMemory() as peak:
        started = _start(gen, prompt="a bomb of a picture")
        failed = _settled_generation(gen, started["id"])
        enhanced = gen.post("/v1/generate/enhance", json={"prompt": "bomb"})
    assert failed["status"] == "failed" and "too large" in failed["error"]["message"]
    assert enhanced.status_code == 502
    assert peak.growth < 200 * 1024**2  # the answer inflates to 512 MB


def test_a_providers_id_never_becomes_a_path_of_its_own(
    gen: httpx.Client, provider: FakeProvider
) -> None:
    started = _start(gen, kind="video", prompt="traverse the id", model="fake-video-1")
    _settled_generation(gen, started["id"])
    paths = [r["path"] for r in provider.requests]
    assert not any(path.startswith("/admin") for path in paths), paths
    assert any("..%2F..%2Fadmin%2Fsecret%3Fx%3D" in path for path in paths), paths
