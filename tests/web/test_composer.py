"""The composer in a real browser, located by role and label as a person finds things:
pick two photos from the library for Instagram and Bluesky, one of them needing a crop,
move the crop with the keyboard, watch each network's check turn green, schedule the
post and find it again; then open it from the media's "used in" link and save it as a
draft. Every view here passes the WCAG AA contrast check."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests import mediafiles
from tests.conftest import RunningServer
from tests.helpers import upload_file, wait_settled, wait_variants
from tests.web.conftest import dimmed_areas, save_screenshot
from tests.web.test_library import CONTRAST, _api, _sign_in


def _library_photos(server: RunningServer, key: str, folder: Path) -> dict[str, str]:
    wide = mediafiles.jpeg(folder / "harbour.jpg", 1200, 800)
    tall = mediafiles.jpeg(folder / "tower.jpg", 600, 1400)
    ids = {}
    with _api(server, key) as api:
        for path, description in ((wide, "Boats in the harbour"), (tall, "The old tower")):
            media = upload_file(api, path, description=description)
            wait_settled(api, media["id"])
            wait_variants(api, media["id"])
            ids[path.name] = media["id"]
    return ids


def _composing_with_photos(
    page: Any, server: RunningServer, key: str, folder: Path, text: str, networks: tuple[str, ...]
) -> tuple[Any, dict[str, str]]:
    """Signed in with `key`, two photos in its library; the composer open with `text` for
    `networks`, and the photos' ids by file name."""
    ids = _library_photos(server, key, folder)
    _sign_in(page, server, key)
    page.get_by_role("link", name="Posts").click()
    page.get_by_role("button", name="New post").click()
    composer = page.get_by_role("dialog", name="New post")
    expect(composer).to_be_visible()
    composer.get_by_label("Post text").fill(text)
    for network in networks:
        composer.get_by_label(network).check()
    return composer, ids


def _instagram_crop(api: Any, media_id: str) -> dict[str, int]:
    variants = api.get(f"/v1/media/{media_id}/variants").json()
    instagram = next(p for p in variants["platforms"] if p["platform"] == "instagram")
    crop: dict[str, int] = instagram["variant"]["crop"]
    return crop


def test_compose_check_crop_schedule_and_find_the_post(
    page: Any, web_server: RunningServer, tmp_path: Path
) -> None:
    key = web_server.new_key()
    composer, ids = _composing_with_photos(
        page, web_server, key, tmp_path, "Harbour days", ("Instagram", "Bluesky")
    )

    composer.get_by_role("button", name="Add from library").click()
    picker = page.get_by_role("dialog", name="Add media from the library")
    picker.get_by_role("button", name="Choose harbour.jpg").click()
    picker.get_by_role("button", name="Choose tower.jpg").click()
    picker.get_by_role("button", name="Add 2").click()
    expect(picker).to_be_hidden()
    # Alt text comes from each media's description.
    expect(composer.get_by_label("Alt text for harbour.jpg")).to_have_value("Boats in the harbour")
    expect(composer.get_by_label("Alt text for tower.jpg")).to_have_value("The old tower")

    instagram = composer.get_by_role("region", name="Instagram check")
    bluesky = composer.get_by_role("region", name="Bluesky check")
    expect(instagram).to_contain_text("Ready as carousel", timeout=20000)
    expect(bluesky).to_contain_text("Ready", timeout=20000)
    expect(instagram).to_contain_text("tower.jpg: sends a variant made for it")
    crop = instagram.get_by_role("slider", name=re.compile("Crop of tower.jpg for Instagram"))
    before = crop.get_attribute("aria-valuetext")  # where the smart crop put it
    assert before is not None
    down_before = int(re.findall(r"(\d+)% down", before)[0])
    with _api(web_server, key) as api:
        top_before = _instagram_crop(api, ids["tower.jpg"])["top"]
    save_screenshot(page, "composer", tmp_path)
    assert page.evaluate(CONTRAST) == []  # composer with its checks and crop
    assert dimmed_areas(page) == []  # the crop box's shade stays inside its frame

    crop.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(composer.get_by_role("status")).to_have_text("Crop saved", timeout=30000)
    with _api(web_server, key) as api:
        framing = api.get(f"/v1/media/{ids['tower.jpg']}").json()["framing"]
        assert framing["fit"] == "crop"
        assert framing["focal_point"]["y"] > (down_before + 5) / 100  # two steps of 5 %
        assert _instagram_crop(api, ids["tower.jpg"])["top"] > top_before  # moved down
    moved = composer.get_by_role("slider", name=re.compile("Crop of tower.jpg for Instagram"))
    expect(moved).not_to_have_attribute("aria-valuetext", before)
    expect(instagram).to_contain_text("Ready as carousel")

    # Reorder with the keyboard-reachable buttons: the tower first.
    composer.get_by_role("button", name="Move tower.jpg earlier").click()
    expect(composer.get_by_role("list", name="Media of the post, in order")).to_contain_text(
        re.compile(r"1\. tower\.jpg.*2\. harbour\.jpg", re.S)
    )
    tomorrow = (dt.datetime.now() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    composer.get_by_label("Goes out at").fill(tomorrow)
    composer.get_by_role("button", name="Schedule").click()
    expect(composer).to_be_hidden()

    posts = page.get_by_role("list", name="Posts")
    expect(posts.locator(":scope > li")).to_have_count(1)
    expect(posts).to_contain_text("Harbour days")
    expect(posts).to_contain_text(re.compile("Scheduled for .* · 2 media items"))
    expect(posts).to_contain_text("Instagram: waiting")
    expect(posts).to_contain_text("Bluesky: waiting")
    with _api(web_server, key) as api:
        [post] = api.get("/v1/posts").json()["data"]
    assert post["status"] == "scheduled"
    assert [m["media_id"] for m in post["media"]] == [ids["tower.jpg"], ids["harbour.jpg"]]
    assert {t["platform"] for t in post["targets"]} == {"instagram", "bluesky"}
    assert page.evaluate(CONTRAST) == []  # the posts list


def test_a_refused_network_says_why_and_a_post_opens_from_used_in(
    page: Any, web_server: RunningServer, files: Path, tmp_path: Path
) -> None:
    key = web_server.new_key()
    with _api(web_server, key) as api:
        clip = upload_file(api, files / "clip.mp4")
        photo = upload_file(api, files / "photo.jpg", description="A red square")
        for media in (clip, photo):
            wait_settled(api, media["id"])
        api.post(
            "/v1/posts",
            json={
                "text": "Mixed",
                "targets": [{"platform": "x"}],
                "media": [{"media_id": photo["id"]}],
            },
        )
    _sign_in(page, web_server, key)
    page.get_by_role("button", name=re.compile("^photo.jpg")).click()
    page.get_by_role("link", name="1 post").click()
    expect(page.get_by_text("Posts that use photo.jpg")).to_be_visible()
    page.get_by_role("list", name="Posts").get_by_role("button").first.click()
    composer = page.get_by_role("dialog", name="Edit post")
    expect(composer.get_by_label("Post text")).to_have_value("Mixed")
    composer.get_by_label("Bluesky").check()
    composer.get_by_role("button", name="Add from library").click()
    page.get_by_role("dialog", name="Add media from the library").get_by_role(
        "button", name="Choose clip.mp4"
    ).click()
    page.get_by_role("button", name="Add 1").click()
    bluesky = composer.get_by_role("region", name="Bluesky check")
    expect(bluesky).to_contain_text("Not ready yet", timeout=20000)
    expect(bluesky.locator("[data-code=no_mixing]")).to_be_visible()
    composer.get_by_role("button", name="Remove clip.mp4").click()
    expect(bluesky).to_contain_text("Ready", timeout=20000)
    composer.get_by_role("button", name="Save draft").click()
    expect(composer).to_be_hidden()
    with _api(web_server, key) as api:
        [post] = api.get("/v1/posts").json()["data"]
    assert post["status"] == "draft" and {t["platform"] for t in post["targets"]} == {
        "x",
        "bluesky",
    }


def test_keyboard_alone_composes_a_draft(page: Any, web_server: RunningServer, files: Path) -> None:
    key = web_server.new_key()
    with _api(web_server, key) as api:
        wait_settled(api, upload_file(api, files / "photo.jpg")["id"])
    _sign_in(page, web_server, key)
    page.get_by_role("link", name="Posts").focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="New post").focus()
    page.keyboard.press("Enter")
    composer = page.get_by_role("dialog", name="New post")
    expect(composer.get_by_label("Post text")).to_be_focused()
    page.keyboard.type("Typed, not clicked")
    composer.get_by_label("Mastodon").focus()
    page.keyboard.press("Space")
    composer.get_by_role("button", name="Add from library").focus()
    page.keyboard.press("Enter")
    picker = page.get_by_role("dialog", name="Add media from the library")
    expect(picker.get_by_label("Search the library")).to_be_focused()
    picker.get_by_role("button", name="Choose photo.jpg").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # to the next control, then straight to Add
    picker.get_by_role("button", name="Add 1").focus()
    page.keyboard.press("Enter")
    expect(composer.get_by_role("region", name="Mastodon check")).to_contain_text("Ready")
    composer.get_by_role("button", name="Save draft").focus()
    page.keyboard.press("Enter")
    expect(composer).to_be_hidden()
    expect(page.get_by_role("list", name="Posts")).to_contain_text("Typed, not clicked")


def test_a_post_starts_from_the_library_selection_or_a_detail_sheet(
    page: Any, web_server: RunningServer, files: Path
) -> None:
    key = web_server.new_key()
    with _api(web_server, key) as api:
        for name in ("one.jpg", "two.jpg"):
            wait_settled(api, upload_file(api, files / "photo.jpg", filename=name)["id"])
    _sign_in(page, web_server, key)
    page.get_by_role("button", name="Select").click()
    page.get_by_role("checkbox", name="Select one.jpg").check()
    page.get_by_role("checkbox", name="Select two.jpg").check()
    page.get_by_role("button", name="New post with these").click()
    composer = page.get_by_role("dialog", name="New post")
    media = composer.get_by_role("list", name="Media of the post, in order")
    expect(media.get_by_role("listitem")).to_have_count(2)
    composer.get_by_role("button", name="Close").click()

    page.get_by_role("button", name=re.compile("^one.jpg")).click()
    page.get_by_role("button", name="Use in a post").click()
    expect(composer).to_be_visible()
    expect(media.get_by_role("listitem")).to_have_count(1)
    expect(media).to_contain_text("one.jpg")
    assert page.evaluate(CONTRAST) == []


def test_cards_dragged_from_the_grid_join_the_post_beside_the_library(
    page: Any, web_server: RunningServer, files: Path
) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    key = web_server.new_key()
    names = ("first.jpg", "second.jpg", "third.jpg", *(f"more-{n}.jpg" for n in range(16)))
    with _api(web_server, key) as api:
        for name in names:
            wait_settled(api, upload_file(api, files / "photo.jpg", filename=name)["id"])
    _sign_in(page, web_server, key)
    page.get_by_role("button", name=re.compile("^first.jpg,")).click()
    page.get_by_role("button", name="Use in a post").click()
    composer = page.get_by_role("dialog", name="New post")
    media = composer.get_by_role("list", name="Media of the post, in order")
    expect(media.get_by_role("listitem")).to_have_count(1)
    # A panel beside the grid, not modal: the grid stays usable, and no card is under it.
    assert page.evaluate("() => document.querySelector('#composer').matches(':modal')") is False
    under = page.evaluate(
        """() => {
          const panel = document.querySelector('#composer').getBoundingClientRect();
          return [...document.querySelectorAll('#grid .card')]
            .filter((card) => card.getBoundingClientRect().right > panel.left).length;
        }"""
    )
    assert under == 0
    grid = page.get_by_role("list", name="Media", exact=True)
    grid.get_by_role("listitem").filter(has_text="third.jpg").drag_to(media)
    expect(media.get_by_role("listitem")).to_have_count(2)
    expect(media).to_contain_text("2. third.jpg")
    grid.get_by_role("listitem").filter(has_text="first.jpg").drag_to(media)  # already in
    expect(media.get_by_role("listitem")).to_have_count(2)
    page.keyboard.press("Escape")
    expect(composer).to_be_hidden()


def test_on_a_phone_a_post_for_three_networks_with_a_dragged_crop(
    browser: Any, web_server: RunningServer, tmp_path: Path
) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    try:
        key = web_server.new_key()
        composer, ids = _composing_with_photos(
            page, web_server, key, tmp_path, "From my phone", ("Instagram", "Bluesky", "Threads")
        )
        composer.get_by_role("button", name="Add from library").click()
        picker = page.get_by_role("dialog", name="Add media from the library")
        picker.get_by_role("button", name="Choose harbour.jpg").click()
        picker.get_by_role("button", name="Choose tower.jpg").click()
        picker.get_by_role("button", name="Add 2").click()
        instagram = composer.get_by_role("region", name="Instagram check")
        expect(instagram).to_contain_text("Ready as carousel", timeout=20000)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        crop = instagram.get_by_role("slider", name=re.compile("Crop of tower.jpg"))
        crop.scroll_into_view_if_needed()
        before = crop.get_attribute("aria-valuetext")
        box = crop.bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2 + 40, steps=5)
        page.mouse.up()
        expect(composer.get_by_role("status")).to_have_text("Crop saved", timeout=30000)
        moved = composer.get_by_role("slider", name=re.compile("Crop of tower.jpg for Instagram"))
        expect(moved).not_to_have_attribute("aria-valuetext", before or "")
        for network in ("Instagram", "Bluesky", "Threads"):
            expect(composer.get_by_role("region", name=f"{network} check")).to_contain_text(
                "Ready", timeout=20000
            )
        tomorrow = (dt.datetime.now() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
        composer.get_by_label("Goes out at").fill(tomorrow)
        composer.get_by_role("button", name="Schedule").click()
        expect(composer).to_be_hidden()
        expect(page.get_by_role("list", name="Posts")).to_contain_text("From my phone")
        with _api(web_server, key) as api:
            [post] = api.get("/v1/posts").json()["data"]
            framing = api.get(f"/v1/media/{ids['tower.jpg']}").json()["framing"]
        assert post["status"] == "scheduled" and len(post["targets"]) == 3
        assert framing["focal_point"] is not None
        page.get_by_role("link", name="Settings").click()
        expect(page.get_by_role("region", name="Webhooks")).to_be_visible()
        keys = page.get_by_role("region", name="API keys")
        expect(keys.get_by_role("row")).to_have_count(2)  # the header and this key
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert page.evaluate(CONTRAST) == []
    finally:
        context.close()
