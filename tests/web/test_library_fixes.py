"""What people hit in the library, fixed and held: polling never rebuilds cards (focus
stays) and asks once for every waiting item; a filter applied while an older list answer
is on its way wins; an interrupted upload is mentioned after a reload; the date filter;
a compact header on a phone; a video cover chosen from the library."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.conftest import RunningServer
from tests.helpers import eventually, upload_file, wait_settled
from tests.web.test_library import _api, _sign_in


def test_polling_keeps_focus_and_asks_once_for_all_waiting_items(
    page: Any, web_server: RunningServer, files: Path
) -> None:
    key = web_server.new_key()
    with _api(web_server, key) as api:
        ready = upload_file(api, files / "photo.jpg", filename="steady.jpg")
        wait_settled(api, ready["id"])
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/v1/media" in r.url else None)
    _sign_in(page, web_server, key)
    steady = page.get_by_role("button", name=re.compile("^steady.jpg"))
    steady.focus()
    with _api(web_server, key) as api:
        videos = [upload_file(api, files / "clip.mp4", filename=f"clip{n}.mp4") for n in range(2)]
    waiting = {video["id"] for video in videos}

    def still_processing(route: Any) -> None:
        """The list shows the clips as processing however fast they are made (a short
        clip can be ready before the page asks): what it polls for is then certain."""
        if "ids=" in route.request.url:
            route.continue_()
            return
        answer = route.fetch()
        listed = answer.json()
        for item in listed["data"]:
            if item["id"] in waiting:
                item["status"] = "processing"
        route.fulfill(response=answer, json=listed)

    page.route(re.compile(r".*/v1/media\?.*"), still_processing)
    page.get_by_role("tab", name="All").click()  # shows the new uploads, still processing
    steady.focus()
    node = steady.element_handle()
    grid = page.get_by_role("list", name="Media")
    expect(grid.locator(".card[data-status=ready]")).to_have_count(3, timeout=30000)
    assert node.evaluate("n => n.isConnected")  # the same node, never rebuilt
    expect(steady).to_be_focused()
    per_item = [u for u in asked if any(f"/v1/media/{v['id']}" in u for v in videos)]
    assert per_item == []
    assert any("ids=" in u for u in asked)


def test_a_filter_applied_while_an_older_answer_is_on_its_way_wins(
    page: Any, web_server: RunningServer, files: Path
) -> None:
    key = web_server.new_key()
    with _api(web_server, key) as api:
        upload_file(api, files / "photo.jpg", filename="tagged.jpg", tags=["sunset"])
        upload_file(api, files / "alpha.png", filename="other.png")
    _sign_in(page, web_server, key)
    expect(page.locator("#grid .card")).to_have_count(2)

    def slow_unfiltered(route: Any) -> None:
        if "tag=" not in route.request.url and "ids=" not in route.request.url:
            time.sleep(1.5)  # the unfiltered answer arrives last
        route.continue_()

    page.route(re.compile(r".*/v1/media\?.*"), slow_unfiltered)
    # An upload finishing reloads the list as it is (unfiltered, slow to answer) ...
    page.evaluate("() => document.querySelector('#status').dispatchEvent(new Event('change'))")
    # ... and the tag filter goes on while that answer is still on its way.
    tag = page.get_by_role("textbox", name="Tag", exact=True)
    tag.fill("sunset")
    tag.press("Enter")
    tag.blur()
    time.sleep(2.5)
    expect(page.locator("#grid .card")).to_have_count(1)
    expect(page.locator("#grid .card .title")).to_have_text("tagged.jpg")


def test_an_interrupted_upload_is_mentioned_and_can_be_forgotten(
    page: Any, web_server: RunningServer
) -> None:
    page.goto(web_server.base_url)
    saved = {
        "big.mov|9|1": {
            "id": "med_x",
            "upload_url": f"{web_server.base_url}/v1/tus/upl_gone",
            "headers": {},
            "name": "big.mov",
        }
    }
    page.evaluate(
        f"() => localStorage.setItem('medialib.resumableUploads', {json.dumps(json.dumps(saved))})"
    )
    _sign_in(page, web_server, web_server.new_key())
    hint = page.get_by_role("status").filter(has_text="stopped before finishing")
    expect(hint).to_contain_text("big.mov")
    expect(hint).to_contain_text("Drop the same file again")
    hint.get_by_role("button", name="Forget them").click()
    expect(hint).to_be_hidden()
    assert page.evaluate("() => localStorage.getItem('medialib.resumableUploads')") == "{}"


def test_the_date_filter_lives_in_the_url(
    page: Any, web_server: RunningServer, files: Path
) -> None:
    key = web_server.new_key()
    with _api(web_server, key) as api:
        upload_file(api, files / "photo.jpg")
    _sign_in(page, web_server, key)
    expect(page.locator("#grid .card")).to_have_count(1)
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    page.get_by_label("Uploaded from").fill(tomorrow)
    expect(page.locator("#grid .card")).to_have_count(0)
    assert f"from={tomorrow}" in page.url
    page.get_by_label("Uploaded from").fill("")
    page.get_by_label("Uploaded until").fill(dt.date.today().isoformat())
    expect(page.locator("#grid .card")).to_have_count(1)


def test_on_a_phone_the_header_and_filters_leave_the_screen_to_the_library(
    browser: Any, web_server: RunningServer, files: Path
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    try:
        key = web_server.new_key()
        with _api(web_server, key) as api:
            upload_file(api, files / "photo.jpg")
        _sign_in(page, web_server, key)
        expect(page.locator("#grid .card")).to_have_count(1)
        grid_top = page.locator("#grid").bounding_box()["y"]
        assert grid_top < 844 * 0.33, grid_top  # was 45 % before
        page.get_by_text("Filters").click()  # folded away, one tap to open
        expect(page.get_by_label("Status")).to_be_visible()
    finally:
        context.close()


def test_a_video_cover_is_chosen_from_the_library(
    page: Any, web_server: RunningServer, files: Path
) -> None:
    key = web_server.new_key()
    with _api(web_server, key) as api:
        video = upload_file(api, files / "clip.mp4")
        image = upload_file(api, files / "alpha.png", filename="poster.png")
        for media in (video, image):
            wait_settled(api, media["id"])
    _sign_in(page, web_server, key)
    page.get_by_role("button", name=re.compile("^clip.mp4")).click()
    page.get_by_role("button", name="Choose an image…").click()
    picker = page.get_by_role("dialog", name="Choose the cover image")
    expect(picker.get_by_role("button", name="Use clip.mp4")).to_have_count(0)  # images only
    picker.get_by_role("button", name="Use poster.png").click()
    expect(page.locator("#detail-saved")).to_have_text("Cover updated", timeout=30000)
    with _api(web_server, key) as api:
        thumbnail = eventually(
            lambda: api.get(f"/v1/media/{video['id']}").json()["thumbnail"],
            lambda t: t["source"] == "custom",
            what="the custom cover",
        )
    assert thumbnail["width"] == 64


def test_a_key_revoked_while_the_tab_is_open_signs_out_on_reload(
    page: Any, web_server: RunningServer
) -> None:
    key = web_server.new_key()
    _sign_in(page, web_server, key)
    with _api(web_server, key) as api:
        [mine] = [k for k in api.get("/v1/keys").json()["data"] if k["revoked_at"] is None][:1]
        assert api.delete(f"/v1/keys/{mine['id']}").status_code == 200
    page.reload()
    expect(page.get_by_role("alert").filter(has_text="not accepted")).to_be_visible()
    expect(page.get_by_label("API key", exact=True)).to_be_visible()
