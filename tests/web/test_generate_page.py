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

from tests import mediafiles
from tests.conftest import RunningServer, isolated_server
from tests.generate.fake_provider import FakeProvider, fake_provider, settings_for
from tests.helpers import upload_file, wait_settled, wait_variants
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


def test_mark_a_part_of_a_photo_edit_it_and_use_the_result_in_a_post(
    page: Any, gen_web_server: RunningServer, tmp_path: Any
) -> None:
    key = gen_web_server.new_key()
    with _api(gen_web_server, key) as api:
        photo = upload_file(api, mediafiles.jpeg(tmp_path / "street.jpg", 800, 600))
        wait_settled(api, photo["id"])
    _sign_in(page, gen_web_server, key)
    page.locator(f"#grid .card[data-id='{photo['id']}'] button.open").click()
    sheet = page.get_by_role("dialog", name="street.jpg")
    editor = sheet.get_by_role("form", name="Edit with AI")
    expect(editor).to_be_visible()
    picture = sheet.locator("#detail-preview img")
    box = picture.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.25)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.6, steps=5)
    page.mouse.up()
    expect(editor).to_contain_text("Only that part changes")
    editor.get_by_label("What to change").fill("a red bicycle by the door")
    editor.get_by_role("button", name="Edit", exact=True).click()
    expect(editor.get_by_role("status")).to_contain_text("Done", timeout=30000)
    save_screenshot(page, "ai-edit", tmp_path)
    assert page.evaluate(CONTRAST) == []
    editor.get_by_role("button", name=re.compile("^open street-edited")).click()
    expect(page.get_by_role("dialog", name=re.compile("street-edited"))).to_be_visible()
    page.get_by_role("button", name="Use in a post").click()
    composer = page.get_by_role("dialog", name="New post")
    expect(composer.get_by_role("list", name="Media of the post, in order")).to_contain_text(
        "street-edited"
    )
    provider: FakeProvider = gen_web_server.provider  # type: ignore[attr-defined]
    sent = [r for r in provider.requests if r["path"] == "/v1/images/edits"][-1]["body"]
    assert sent["prompt"] == "a red bicycle by the door"
    with _api(gen_web_server, key) as api:
        edited = api.get("/v1/media", params={"tag": "ai-edited"}).json()["data"]
    region = edited[0]["metadata"]["generation"]["region"]
    # The marked quarter-to-half across, quarter-to-six-tenths down, in the photo's pixels.
    assert abs(region["left"] - 200) <= 12 and abs(region["top"] - 150) <= 12
    assert abs(region["width"] - 200) <= 16 and abs(region["height"] - 210) <= 16


def test_a_landscape_photo_is_extended_for_a_story(
    page: Any, gen_web_server: RunningServer, tmp_path: Any
) -> None:
    key = gen_web_server.new_key()
    with _api(gen_web_server, key) as api:
        photo = upload_file(api, mediafiles.jpeg(tmp_path / "bay.jpg", 800, 600))
        wait_settled(api, photo["id"])
    _sign_in(page, gen_web_server, key)
    page.locator(f"#grid .card[data-id='{photo['id']}'] button.open").click()
    editor = page.get_by_role("dialog", name="bay.jpg").get_by_role("form", name="Edit with AI")
    editor.get_by_label("Or extend it to").select_option("9:16")
    editor.get_by_role("button", name="Extend").click()
    expect(editor.get_by_role("status")).to_contain_text("Done", timeout=30000)
    with _api(gen_web_server, key) as api:
        extended = api.get("/v1/media", params={"tag": "ai-edited"}).json()["data"][0]
    assert extended["width"] == 800 and abs(extended["height"] - round(800 * 16 / 9)) <= 1


def test_the_composer_extends_a_photo_instead_of_cropping_it(
    page: Any, gen_web_server: RunningServer, tmp_path: Any
) -> None:
    """A tall photo Instagram would crop to 4:5: "Extend instead" has it extended to that
    shape by the model, and the extended picture takes its place in the post."""
    key = gen_web_server.new_key()
    with _api(gen_web_server, key) as api:
        tall = upload_file(api, mediafiles.jpeg(tmp_path / "tower.jpg", 600, 1000))
        wait_settled(api, tall["id"])
        wait_variants(api, tall["id"])
    _sign_in(page, gen_web_server, key)
    page.locator(f"#grid .card[data-id='{tall['id']}'] button.open").click()
    page.get_by_role("button", name="Use in a post").click()
    composer = page.get_by_role("dialog", name="New post")
    composer.get_by_label("Post text").fill("Tower")
    composer.get_by_label("Instagram").check()
    instagram = composer.get_by_role("region", name="Instagram check")
    expect(instagram).to_contain_text("tower.jpg: sends a variant made for it", timeout=20000)
    instagram.get_by_role("button", name=re.compile("^Extend tower.jpg to Instagram")).click()
    expect(composer.get_by_role("status").first).to_contain_text("extended to 4:5", timeout=30000)
    expect(composer.get_by_role("list", name="Media of the post, in order")).to_contain_text(
        "tower-edited"
    )
    # 4:5 now: not cropped (Instagram's feed takes JPEG, so a JPEG of it is made).
    expect(instagram).to_contain_text(
        re.compile(r"tower-edited.png: sends a variant made for it, 800 \S 1000")
    )
    expect(instagram).not_to_contain_text("(cropped)")
    save_screenshot(page, "composer-extended", tmp_path)
