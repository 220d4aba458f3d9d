"""AI edits over real HTTP against the fake provider on loopback (it speaks the images edit
API as documented: multipart, a mask of the picture's size with an alpha channel, and
paints flat green where the mask is transparent). A region or a mask changes only its
part; an extension grows the canvas to a network's shape and fills only the new part;
the source is never changed, every pixel outside the mask is the source's own, and the
provider's refusal and the limits are said plainly."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pyvips

from tests.conftest import RunningServer, isolated_server
from tests.generate.fake_provider import FakeProvider, fake_provider, settings_for
from tests.helpers import error_of, eventually, upload_file, wait_settled


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeProvider]:
    with fake_provider(tmp_path_factory.mktemp("provider")) as running:
        yield running


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def edit_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, provider: FakeProvider
) -> Iterator[RunningServer]:
    with isolated_server(
        request, tmp_path_factory, request.param, **settings_for(provider, generate_per_day=50)
    ) as server:
        yield server


@pytest.fixture
def api(edit_server: RunningServer) -> Iterator[httpx.Client]:
    with edit_server.client() as client:
        yield client


def _photo(api: httpx.Client, folder: Path, width: int, height: int) -> dict[str, Any]:
    """A picture of noise (every pixel its own), ready."""
    path = folder / f"photo-{width}x{height}.png"
    noise = pyvips.Image.gaussnoise(width, height, sigma=60, mean=128)
    rgb = noise.bandjoin([noise.fliphor(), noise.flipver()]).cast("uchar")
    rgb.copy(interpretation="srgb").pngsave(str(path))
    media = wait_settled(api, upload_file(api, path)["id"])
    assert media["status"] == "ready", media
    return media


def _edited(api: httpx.Client, answer: httpx.Response) -> tuple[dict[str, Any], Any]:
    assert answer.status_code == 202, answer.text
    started = answer.json()
    media = wait_settled(api, started["media_id"], timeout=60)
    assert media["status"] == "ready", media
    picture = pyvips.Image.new_from_buffer(httpx.get(media["url"]).content, "")
    return media, picture


def _pixels(image: Any) -> bytes:
    return bytes(image.extract_band(0, n=3).write_to_memory())


def test_a_region_changes_only_its_part_and_the_source_stays(
    api: httpx.Client, tmp_path: Path, provider: FakeProvider
) -> None:
    source = _photo(api, tmp_path, 400, 300)
    before = httpx.get(source["url"]).content
    region = {"left": 100, "top": 50, "width": 120, "height": 80}
    media, edited = _edited(
        api,
        api.post(
            f"/v1/media/{source['id']}/edits",
            json={"prompt": "a green door", "region": region},
        ),
    )
    assert "ai-edited" in media["tags"] and media["content_type"] == "image/png"
    told = media["metadata"]["generation"]
    assert told["edit_of"] == source["id"] and told["prompt"] == "a green door"
    assert (edited.width, edited.height) == (400, 300)
    original = pyvips.Image.new_from_buffer(before, "")
    inside = edited.crop(110, 60, 100, 60)  # well inside the region: painted green
    assert inside.extract_band(1).avg() > 180 and inside.extract_band(0).avg() < 30
    # Outside the region every pixel is the source's own, exactly.
    for box in ((0, 0, 400, 50), (0, 130, 400, 170), (0, 50, 100, 80), (220, 50, 180, 80)):
        assert _pixels(edited.crop(*box)) == _pixels(original.crop(*box)), box
    assert httpx.get(source["url"]).content == before  # the source is never changed
    sent = [r for r in provider.requests if r["path"] == "/v1/images/edits"][-1]["body"]
    assert sent["image_size"] == sent["mask_size"] and sent["prompt"] == "a green door"


def test_a_drawn_mask_is_the_pictures_size_and_transparent_where_to_paint(
    api: httpx.Client, tmp_path: Path
) -> None:
    source = _photo(api, tmp_path, 320, 240)
    keep = pyvips.Image.black(320, 240) + 255  # opaque: kept
    hole = keep.draw_rect(0, 0, 0, 160, 240, fill=True)  # the left half may be painted
    mask = (pyvips.Image.black(320, 240) + 255).bandjoin([keep, keep, hole]).cast("uchar")
    encoded = base64.b64encode(mask.pngsave_buffer()).decode()
    _, edited = _edited(
        api,
        api.post(f"/v1/media/{source['id']}/edits", json={"prompt": "sky", "mask": encoded}),
    )
    assert edited.crop(10, 10, 140, 220).extract_band(1).avg() > 180
    original = pyvips.Image.new_from_buffer(httpx.get(source["url"]).content, "")
    assert _pixels(edited.crop(170, 0, 150, 240)) == _pixels(original.crop(170, 0, 150, 240))
    wrong = (pyvips.Image.black(100, 100) + 255).bandjoin([255, 255, 0]).cast("uchar")
    small = base64.b64encode(wrong.pngsave_buffer()).decode()
    refused = api.post(f"/v1/media/{source['id']}/edits", json={"prompt": "x", "mask": small})
    assert refused.status_code == 422 and "320x240" in error_of(refused)["message"]


@pytest.mark.parametrize(
    ("size", "ratio"), [((600, 800), "9:16"), ((600, 800), "4:5"), ((800, 600), "9:16")]
)
def test_a_photo_is_extended_to_a_networks_shape_not_cropped(
    api: httpx.Client, tmp_path: Path, size: tuple[int, int], ratio: str
) -> None:
    """A 3:4 or 4:3 photo extended to a story's 9:16 or a feed's 4:5: the exact ratio, the
    whole original inside it untouched and centred, only the new part painted."""
    w, h = size
    across, down = (int(n) for n in ratio.split(":"))
    shape = across / down
    source = _photo(api, tmp_path, w, h)
    media, extended = _edited(
        api, api.post(f"/v1/media/{source['id']}/edits", json={"extend_to": ratio})
    )
    width, height = extended.width, extended.height
    assert abs(width - height * shape) <= 1, (width, height)
    # Grown on one side pair, never shrunk: the original is all there, centred (its focal
    # point is the centre), and only the new margin is painted.
    grown = (w, round(w / shape)) if shape < w / h else (round(h * shape), h)
    assert (width, height) == grown
    left, top = (width - w) // 2, (height - h) // 2
    original = pyvips.Image.new_from_buffer(httpx.get(source["url"]).content, "")
    assert _pixels(extended.crop(left, top, w, h)) == _pixels(original)
    margin = (
        extended.crop(0, 0, max(1, left - 2), height)
        if left
        else extended.crop(0, 0, width, max(1, top - 2))
    )
    assert margin.extract_band(1).avg() > 180
    assert media["metadata"]["generation"]["extend_to"] == ratio


def test_limits_refusals_and_bad_requests_are_said_plainly(
    api: httpx.Client, tmp_path: Path, files: Path
) -> None:
    source = _photo(api, tmp_path, 400, 300)
    edits = f"/v1/media/{source['id']}/edits"
    wide = _photo(api, tmp_path, 640, 360)
    too_far = api.post(f"/v1/media/{wide['id']}/edits", json={"extend_to": "9:16"})
    assert too_far.status_code == 422 and error_of(too_far)["reason"] == "extension_too_large"
    assert "68%" in error_of(too_far)["message"]  # 16:9 to 9:16: two thirds and more new
    for body, field in (
        ({"prompt": "x", "region": {"left": 350, "top": 0, "width": 100, "height": 10}}, "region"),
        ({"prompt": "x", "region": {"left": 0, "top": 0, "width": 1, "height": 1},
          "extend_to": "1:1"}, "region"),
        ({}, "prompt"),
    ):  # fmt: skip
        answer = api.post(edits, json=body)
        assert answer.status_code == 422 and error_of(answer)["field"] == field, body
    assert api.post("/v1/media/med_nope/edits", json={"prompt": "x"}).status_code == 404
    garbled = api.post(edits, json={"prompt": "x", "mask": "not base64 at all!"})
    assert garbled.status_code == 422 and error_of(garbled)["field"] == "mask"
    # A body past the edit route's cap (a mask's worth and some) is cut off, never read whole.
    huge = api.post(
        edits,
        content=b'{"prompt": "x", "mask": "' + b"A" * (26 * 1024 * 1024) + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert huge.status_code == 413 and error_of(huge)["code"] == "payload_too_large"
    clip = wait_settled(api, upload_file(api, files / "clip.mp4")["id"])
    assert api.post(f"/v1/media/{clip['id']}/edits", json={"prompt": "x"}).status_code == 422
    # The provider's refusal, word for word, on the generation and the new media.
    started = api.post(edits, json={"prompt": "please refuse this"}).json()
    failed = wait_settled(api, started["media_id"])
    assert failed["status"] == "failed" and "safety system" in failed["error"]["message"]
    ended = eventually(
        lambda: next(
            g for g in api.get("/v1/generations").json()["data"] if g["id"] == started["id"]
        ),
        lambda g: g["status"] != "pending",
        what="the edit to end",
    )
    assert ended["status"] == "failed" and ended["source_media_id"] == source["id"]
