"""The Generate view in Chromium, against the loopback fake provider (no real provider
can be reached here; see tests/generate/fake_provider.py): enhance a prompt, generate an
image and a video, watch them turn ready by themselves, use one in a post; with no
provider configured, the view says how to configure one."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import RunningServer, isolated_server
from tests.generate.fake_provider import FakeProvider, fake_provider, settings_for
from tests.web.conftest import save_screenshot
from tests.web.test_library import CONTRAST, _api, _sign_in


@pytest.fixture(scope="module")
def gen_web_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    with (
        fake_provider(tmp_path_factory.mktemp("provider")) as provider,
        isolated_server(
            request,
            tmp_path_factory,
            "sqlite",
            **settings_for(provider),
        ) as server,
    ):
        server.provider = provider  # type: ignore[attr-defined]
        yield server


def test_generate_an_image_and_a_video_and_use_one_in_a_post(
    page: Any, gen_web_server: RunningServer, tmp_path: Any
) -> None:
    key = gen_web_server.new_key()
    _sign_in(page, gen_web_server, key)
    page.get_by_role("link", name="Generate").click()
    page.get_by_label("Prompt").fill("a lighthouse at dusk")
    page.get_by_role("button", name="Enhance").click()
    expect(page.get_by_label("Prompt")).to_have_value(re.compile("^Enhanced: a lighthouse"))
    page.get_by_label("Style").select_option(label="Cinematic")
    page.get_by_label("16:9").check()
    page.get_by_role("button", name="Generate").click()
    recent = page.get_by_role("list", name="Recent generations")
    card = recent.get_by_role("listitem").first
    expect(card).to_have_attribute("data-status", "ready", timeout=30000)
    expect(card.get_by_role("img")).to_be_visible()
    expect(card).to_contain_text("Cinematic")
    provider: FakeProvider = gen_web_server.provider  # type: ignore[attr-defined]
    assert provider.bodies("/v1/images/generations")[-1]["size"] == "1536x1024"
    save_screenshot(page, "generate", tmp_path)
    assert page.evaluate(CONTRAST) == []

    page.get_by_role("radio", name="Video").check()
    page.get_by_label("Prompt").fill("waves rolling in")
    page.get_by_role("button", name="Generate").click()
    video_card = recent.get_by_role("listitem").filter(has_text="waves rolling in")
    expect(video_card).to_have_attribute("data-status", "ready", timeout=60000)
    expect(page.get_by_text(re.compile(r"2 of \d+ generations used today"))).to_be_visible()

    image_card = recent.get_by_role("listitem").filter(has_text="lighthouse")
    image_card.get_by_role("button", name=re.compile("^Use the image")).click()
    composer = page.get_by_role("dialog", name="New post")
    expect(composer.get_by_role("list", name="Media of the post, in order")).to_contain_text(
        "ai-image-enhanced-a-lighthouse"
    )
    with _api(gen_web_server, key) as api:
        library = api.get("/v1/media", params={"tag": "ai-generated"}).json()["data"]
    assert len(library) == 2
    prompts = {m["metadata"]["generation"]["prompt"] for m in library}
    assert "waves rolling in" in prompts


def test_without_a_provider_the_view_says_how_to_configure_one(
    page: Any, web_server: RunningServer
) -> None:
    _sign_in(page, web_server, web_server.new_key())
    page.get_by_role("link", name="Generate").click()
    expect(page.get_by_text("No generation provider is configured")).to_be_visible()
    expect(page.get_by_text("MEDIALIB_GENERATE_IMAGES_URL")).to_be_visible()
    expect(page.get_by_role("button", name="Generate")).to_be_hidden()
    assert page.evaluate(CONTRAST) == []
