"""The web media library in a real browser: sign in, drop files, watch them upload and
turn ready, find them, edit them, delete them, and never run an uploaded name as markup."""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import expect

from medialib.db import session_scope
from medialib.workspaces.service import WorkspaceService
from tests import mediafiles
from tests.conftest import RunningServer
from tests.helpers import (
    eventually,
    get_media,
    request_upload,
    upload_file,
    wait_settled,
    wait_variants,
)
from tests.web.conftest import save_screenshot

CONTRAST = (Path(__file__).parent / "contrast.js").read_text()


def _sign_in(page: Any, server: RunningServer, key: str, query: str = "") -> None:
    page.goto(f"{server.base_url}/{query}")
    page.get_by_label("API key", exact=True).fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("tablist", name="Kind of media")).to_be_visible()


def _cards(page: Any) -> Any:
    """The library's cards, as a person (or a screen reader) finds them."""
    return page.get_by_role("list", name="Media").get_by_role("listitem")


def _open(page: Any, filename: str) -> Any:
    """Open a card's detail sheet; the sheet."""
    page.get_by_role("button", name=re.compile(f"^{re.escape(filename)},")).click()
    sheet = page.get_by_role("dialog", name=filename)
    expect(sheet).to_be_visible()
    return sheet


def _drop(page: Any, paths: list[tuple[Path, str, str]]) -> None:
    """Drop real files on the page through a real DataTransfer, as a person's drag does."""
    files = [
        {"name": name, "type": mime, "b64": base64.b64encode(path.read_bytes()).decode()}
        for path, name, mime in paths
    ]
    transfer = page.evaluate_handle(
        """(files) => {
            const transfer = new DataTransfer();
            for (const file of files) {
                const bytes = Uint8Array.from(atob(file.b64), (c) => c.charCodeAt(0));
                // A fixed date: the same file dropped again is recognised as the same.
                const lastModified = 1700000000000;
                transfer.items.add(new File([bytes], file.name, { type: file.type, lastModified }));
            }
            return transfer;
        }""",
        files,
    )
    page.dispatch_event("body", "dragenter", {"dataTransfer": transfer})
    page.dispatch_event("body", "drop", {"dataTransfer": transfer})


def _api(server: RunningServer, key: str) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {key}"})


def test_sign_in_refuses_a_bad_key(page: Any, web_server: RunningServer, tmp_path: Path) -> None:
    page.goto(web_server.base_url)
    save_screenshot(page, "sign-in", tmp_path)
    page.fill("#api-key", "mlk_wrong_key")
    page.click("#sign-in-form button[type=submit]")
    expect(page.locator("#sign-in-error")).to_have_text(re.compile(r"not accepted"))
    assert page.is_hidden("#library")


def test_dropped_files_upload_in_parallel_and_turn_ready(
    page: Any, web_server: RunningServer, files: Path, tmp_path: Path
) -> None:
    key = web_server.new_key()
    _sign_in(page, web_server, key)
    _drop(
        page,
        [
            (files / "photo.jpg", "photo.jpg", "image/jpeg"),
            (files / "clip.mp4", "clip.mp4", "video/mp4"),
            (files / "alpha.png", "alpha.png", "image/png"),
            (files / "doc.pdf", "doc.pdf", "application/pdf"),
        ],
    )
    expect(page.locator(".upload.done")).to_have_count(4, timeout=30000)
    progress = page.eval_on_selector_all(
        ".upload progress", "bars => bars.map(b => b.value / b.max)"
    )
    assert progress == [1, 1, 1, 1]
    expect(page.locator("#grid .card[data-status=ready]")).to_have_count(4, timeout=30000)
    expect(page.locator("#grid .card img")).to_have_count(4)
    for image in page.locator("#grid .card img").all():
        expect(image).to_have_js_property("complete", True)
        assert image.evaluate("i => i.naturalWidth") > 0
    assert page.text_content("#total") == "4 items"
    expect(page.locator("#usage")).to_have_text(re.compile(r"KB used$"))
    for hidden_now in ("#sign-in", "#drop-overlay", "#bulk-bar"):
        expect(page.locator(hidden_now)).to_be_hidden()
    expect(page.locator(".upload")).to_have_count(0, timeout=10000)  # finished rows fade out
    save_screenshot(page, "library", tmp_path)


def test_a_refused_file_is_explained_offers_no_retry_and_is_dismissed(
    page: Any, web_server: RunningServer, files: Path
) -> None:
    """A permanent refusal: the server's reason, no Retry (it cannot help), and Dismiss
    removes the row and what the refused upload left on the server."""
    key = web_server.new_key()
    _sign_in(page, web_server, key)
    _drop(page, [(files / "page.html", "photo.jpg", "image/jpeg")])
    uploads = page.get_by_role("region", name="Uploads")
    row = uploads.get_by_role("listitem").filter(has_text="photo.jpg")
    expect(row).to_contain_text("not a supported")
    expect(row.get_by_role("button", name="Retry")).to_have_count(0)
    row.get_by_role("button", name="Dismiss photo.jpg").click()
    expect(uploads).to_be_hidden()  # nothing left in it: the list goes away
    with _api(web_server, key) as api:
        expect_eventually_empty = api.get("/v1/media").json()["data"]
        assert expect_eventually_empty == [] or all(
            m["status"] == "deleted" for m in expect_eventually_empty
        )


def test_a_large_file_goes_in_pieces_and_resumes_after_a_break_and_a_reload(
    page: Any, web_server: RunningServer, tmp_path: Path
) -> None:
    big = mediafiles.noisy_jpeg(tmp_path / "big.jpg")
    key = web_server.new_key()
    page.goto(web_server.base_url)
    page.evaluate(
        """() => {
            localStorage.setItem("medialib.resumableAbove", "1000000");
            localStorage.setItem("medialib.chunkBytes", String(1024 * 1024));
        }"""
    )
    _sign_in(page, web_server, key)
    offsets: list[int] = []

    def cut_after_two_pieces(route: Any) -> None:
        if route.request.method != "PATCH":
            route.continue_()
            return
        offsets.append(int(route.request.headers["upload-offset"]))
        if len(offsets) > 2:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/v1/tus/**", cut_after_two_pieces)
    _drop(page, [(big, "big.jpg", "image/jpeg")])
    page.wait_for_selector(".upload.failed", timeout=30000)
    assert "where it stopped" in (page.text_content(".upload.failed .status") or "")
    assert offsets[:3] == [0, 1024 * 1024, 2 * 1024 * 1024]

    # A new page load knows nothing but the saved upload: the same file goes on from there.
    page.unroute("**/v1/tus/**")
    page.reload()
    page.wait_for_selector("#library:not([hidden])")
    offsets.clear()
    page.on(
        "request",
        lambda r: offsets.append(int(r.headers["upload-offset"])) if r.method == "PATCH" else None,
    )
    _drop(page, [(big, "big.jpg", "image/jpeg")])
    expect(page.locator(".upload.done")).to_have_count(1, timeout=30000)
    assert offsets[0] == 2 * 1024 * 1024
    with _api(web_server, key) as api:
        listed = api.get("/v1/media").json()
    assert listed["pagination"]["total"] == 1
    media = listed["data"][0]
    assert media["status"] == "ready" and media["size"] == big.stat().st_size
    assert media["checksum_sha256"] == hashlib.sha256(big.read_bytes()).hexdigest()
    assert page.evaluate("() => localStorage.getItem('medialib.resumableUploads')") == "{}"


def test_usage_shows_the_quota_and_an_upload_over_it_is_explained(
    page: Any, web_server: RunningServer, files: Path
) -> None:
    name = f"quota-web-{uuid.uuid4().hex[:6]}"
    key = web_server.new_key(name)
    photo = files / "photo.jpg"
    with _api(web_server, key) as api:
        upload_file(api, photo)
    with session_scope(web_server.state.session_factory) as session:
        assert WorkspaceService(session).set_quota(name, photo.stat().st_size + 100)
    _sign_in(page, web_server, key)
    expect(page.locator("#usage")).to_have_text(re.compile(r"\d B of \d.* used$"))
    expect(page.locator("#usage-meter")).to_be_visible()
    assert page.eval_on_selector("#usage-meter", "m => m.value") > 0.8
    _drop(page, [(files / "alpha.png", "alpha.png", "image/png")])
    page.wait_for_selector(".upload.failed")
    assert "quota" in (page.text_content(".upload.failed .status") or "")


def test_search_tabs_and_filters_live_in_the_url(
    page: Any, web_server: RunningServer, files: Path
) -> None:
    key = web_server.new_key()
    with _api(web_server, key) as api:
        beach = upload_file(api, files / "photo.jpg", filename="beach.jpg", tags=["summer"])
        clip = upload_file(api, files / "clip.mp4", filename="launch.mp4", description="Launch day")
        upload_file(api, files / "alpha.png", filename="logo.png")
        wait_settled(api, clip["id"])
    _sign_in(page, web_server, key)
    expect(_cards(page)).to_have_count(3)
    page.get_by_role("searchbox", name="Search media").fill("launch")
    expect(_cards(page)).to_have_count(1)
    assert "q=launch" in page.url
    page.get_by_role("searchbox", name="Search media").fill("")
    page.get_by_role("tab", name="Images").click()
    expect(_cards(page)).to_have_count(2)
    assert re.search(r"kind=image", page.url)
    page.get_by_role("textbox", name="Tag", exact=True).fill("summer")
    page.get_by_role("textbox", name="Tag", exact=True).press("Enter")
    expect(_cards(page)).to_have_count(1)
    assert page.get_attribute("#grid .card", "data-id") == beach["id"]
    page.reload()  # the view survives a reload (the key lives in the tab's session)
    expect(_cards(page)).to_have_count(1)
    expect(page.get_by_role("tab", name="Images")).to_have_attribute("aria-selected", "true")


def test_each_card_shows_where_it_can_go_and_the_library_filters_by_network(
    page: Any, web_server: RunningServer, files: Path, tmp_path: Path
) -> None:
    key = web_server.new_key()
    with _api(web_server, key) as api:
        photo = upload_file(api, files / "photo.jpg", filename="photo.jpg")
        song = upload_file(api, files / "tone.mp3", filename="song.mp3")
        for media in (photo, song):
            eventually(
                lambda media=media: get_media(api, media["id"]),
                lambda m: m["ready_for"] is not None,
                what="readiness",
            )
    _sign_in(page, web_server, key)
    song_card = page.locator(f"#grid .card[data-id='{song['id']}']")
    photo_card = page.locator(f"#grid .card[data-id='{photo['id']}']")
    expect(song_card.get_by_role("img", name=re.compile("Ready for .*Mastodon"))).to_be_visible()
    expect(song_card.locator(".networks")).not_to_contain_text("X")
    expect(photo_card.locator(".networks")).to_contain_text("Bsky")
    page.get_by_role("combobox", name="Ready for").select_option(label="X")
    expect(_cards(page)).to_have_count(1)
    assert page.get_attribute("#grid .card", "data-id") == photo["id"]
    assert "ready_for=x" in page.url
    save_screenshot(page, "library-ready-for", tmp_path)
    assert page.evaluate(CONTRAST) == []


def test_more_pages_come_by_cursor_and_a_long_list_says_so(
    page: Any, web_server: RunningServer
) -> None:
    key = web_server.new_key()
    with _api(web_server, key) as api:
        made = [request_upload(api, filename=f"later-{i:02d}.jpg")["id"] for i in range(45)]
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url) if "/v1/media?" in r.url else None)
    _sign_in(page, web_server, key)
    expect(_cards(page)).to_have_count(40)  # one page
    assert page.text_content("#total") == "45 items"
    page.get_by_role("button", name="Load more").click()
    expect(_cards(page)).to_have_count(45)
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()
    assert any("cursor=" in url for url in seen)  # the next page by cursor, not offset
    ids = page.eval_on_selector_all("#grid .card", "cards => cards.map(c => c.dataset.id)")
    assert ids == made[::-1]


def test_detail_sheet_shows_facts_and_saves_edits(
    page: Any, web_server: RunningServer, files: Path, tmp_path: Path
) -> None:
    key = web_server.new_key()
    with _api(web_server, key) as api:
        media = upload_file(api, files / "clip.mp4", filename="teaser.mp4")
        wait_settled(api, media["id"])
        _sign_in(page, web_server, key)
        sheet = _open(page, "teaser.mp4")
        facts = page.text_content("#detail-meta") or ""
        assert "160 \u00d7 120" in facts and "H.264 / AAC" in facts and "25 fps" in facts
        assert "Virus scanoff on this server" in facts  # the web server runs without ClamAV
        assert page.is_visible("#detail-preview video")
        expect(page.locator("#network-list li")).to_have_count(11)
        expect(page.locator("#network-list li[data-platform=youtube]")).to_have_attribute(
            "data-verdict", "green"
        )
        expect(page.locator("#network-list li[data-platform=instagram]")).to_have_attribute(
            "data-verdict",
            "red",  # 1 s is under Instagram's 3 s minimum
        )
        sheet.get_by_label("Description (alt text)").fill("Our launch teaser")
        sheet.get_by_label("Tags, comma-separated").fill("launch, video")
        sheet.get_by_role("button", name="Save", exact=True).click()
        expect(sheet.get_by_role("status")).to_have_text("Saved")
        saved = api.get(f"/v1/media/{media['id']}").json()
        assert saved["description"] == "Our launch teaser" and saved["tags"] == ["launch", "video"]
        save_screenshot(page, "detail", tmp_path)
        sheet.get_by_role("button", name="Use current frame").click()
        expect(sheet.get_by_role("status")).to_have_text("Cover updated", timeout=30000)
        assert api.get(f"/v1/media/{media['id']}").json()["thumbnail"]["frame_time_ms"] == 0


def test_the_detail_sheet_offers_each_networks_variant(
    page: Any, web_server: RunningServer, tmp_path: Path
) -> None:
    key = web_server.new_key()
    big = mediafiles.noisy_jpeg(tmp_path / "poster.jpg")  # about 5.7 MB: over X and Bluesky
    with _api(web_server, key) as api:
        media = upload_file(api, big)
        wait_settled(api, media["id"])
        assert wait_variants(api, media["id"])["variants_status"] == "ready"
    _sign_in(page, web_server, key)
    sheet = _open(page, "poster.jpg")
    link = sheet.get_by_role("link", name="Download the Bluesky variant")
    expect(link).to_contain_text("JPEG variant ready")
    # Names come from GET /v1/platforms, not from the page's own list.
    expect(page.locator("#network-list li[data-platform=linkedin] .network")).to_have_text(
        "LinkedIn"
    )
    expect(link).to_have_attribute("aria-label", "Download the Bluesky variant")
    href = link.get_attribute("href") or ""
    downloaded = httpx.get(href)
    assert downloaded.status_code == 200 and len(downloaded.content) <= 2_000_000
    expect(page.locator("#network-list li[data-platform=pinterest] a.variant")).to_have_count(0)
    assert page.evaluate(CONTRAST) == []


def test_a_reason_says_what_medialib_does_about_it(
    page: Any, web_server: RunningServer, files: Path
) -> None:
    """An ordinary phone MOV (its index at the end): "this network wants it first" comes
    with what medialib does about it, where the network takes it once that is done."""
    key = web_server.new_key()
    with _api(web_server, key) as api:
        media = upload_file(api, files / "clip.mov")
        wait_settled(api, media["id"])
        verdicts = wait_variants(api, media["id"])["platforms"]
    amber = [v for v in verdicts if v["verdict"] == "amber"]
    fixed = next(
        v
        for v in amber
        if any(r["fix"] == "remux" and "medialib" not in r["message"] for r in v["reasons"])
    )
    _sign_in(page, web_server, key)
    _open(page, "clip.mov")
    row = page.locator(f"#network-list li[data-platform={fixed['platform']}]")
    expect(row).to_contain_text("wants it first")
    expect(row).to_contain_text("medialib repackages it.")


def test_bulk_delete_removes_the_selected(
    page: Any, web_server: RunningServer, files: Path
) -> None:
    key = web_server.new_key()
    with _api(web_server, key) as api:
        made = [upload_file(api, files / "photo.jpg", filename=f"p{i}.jpg") for i in range(3)]
        _sign_in(page, web_server, key)
        expect(_cards(page)).to_have_count(3)
        page.get_by_role("button", name="Select").click()
        for media in made[:2]:
            page.get_by_role("checkbox", name=f"Select {media['filename']}").check()
        expect(page.get_by_text("2 selected")).to_be_visible()
        page.get_by_role("button", name="Delete selected").click()
        expect(_cards(page)).to_have_count(1)
        assert page.get_attribute("#grid .card", "data-id") == made[2]["id"]
        assert api.get(f"/v1/media/{made[0]['id']}").status_code == 404


def test_tags_are_added_to_and_taken_from_the_selected_at_once(
    page: Any, web_server: RunningServer, files: Path
) -> None:
    key = web_server.new_key()
    with _api(web_server, key) as api:
        made = [
            upload_file(api, files / "photo.jpg", filename=f"t{i}.jpg", tags=["Old"])
            for i in range(3)
        ]
        _sign_in(page, web_server, key)
        page.get_by_role("button", name="Select").click()
        for media in made[:2]:
            page.get_by_role("checkbox", name=f"Select {media['filename']}").check()
        page.get_by_label("Tag for the selected").fill("summer, beach")
        page.get_by_role("button", name="Add tag").click()
        expect(page.get_by_role("status").filter(has_text="added to")).to_contain_text("2 items")
        tags = {m["id"]: m["tags"] for m in api.get("/v1/media").json()["data"]}
        assert tags[made[0]["id"]] == tags[made[1]["id"]] == ["Old", "summer", "beach"]
        assert tags[made[2]["id"]] == ["Old"]
        page.get_by_label("Tag for the selected").fill("old")  # any case
        page.get_by_role("button", name="Remove tag").click()
        expect(page.get_by_role("status").filter(has_text="taken from")).to_be_visible()
        tags = {m["id"]: m["tags"] for m in api.get("/v1/media").json()["data"]}
        assert tags[made[0]["id"]] == ["summer", "beach"] and tags[made[2]["id"]] == ["Old"]


def test_hostile_names_and_descriptions_render_as_text(
    page: Any, web_server: RunningServer, files: Path
) -> None:
    key = web_server.new_key()
    hostile = '<img src=x onerror="window.pwned=1">.jpg'
    with _api(web_server, key) as api:
        media = upload_file(api, files / "photo.jpg", filename=hostile)
        api.patch(
            f"/v1/media/{media['id']}", json={"description": "<script>window.pwned=2</script>"}
        )
    _sign_in(page, web_server, key)
    page.wait_for_selector("#grid .card")
    assert page.text_content("#grid .card .title") == hostile
    _open(page, hostile)
    assert page.evaluate("window.pwned") is None
    assert (
        page.evaluate(
            "document.querySelectorAll('img[src=x], #grid script, #detail script').length"
        )
        == 0
    )


def test_trash_lists_deleted_items_with_days_left_and_restores(
    page: Any, web_server: RunningServer, files: Path
) -> None:
    key = web_server.new_key()
    with _api(web_server, key) as api:
        kept = upload_file(api, files / "photo.jpg", filename="kept.jpg")
        gone = upload_file(api, files / "alpha.png", filename="gone.png")
        api.delete(f"/v1/media/{gone['id']}")
        _sign_in(page, web_server, key)
        expect(_cards(page)).to_have_count(1)
        page.get_by_role("tab", name="Trash").click()
        expect(_cards(page)).to_have_count(1)
        expect(page.locator("#grid .card .days-left")).to_have_text("30 days left")
        page.get_by_role("button", name="Restore gone.png").click()
        expect(_cards(page)).to_have_count(0)
        page.get_by_role("tab", name="All").click()
        expect(_cards(page)).to_have_count(2)
        assert api.get(f"/v1/media/{gone['id']}").json()["status"] == "ready"
        assert kept["id"] in page.eval_on_selector_all(
            "#grid .card", "cs => cs.map(c => c.dataset.id)"
        )


def test_phone_sized_screen_shows_the_library(
    browser: Any, web_server: RunningServer, files: Path, tmp_path: Path
) -> None:
    key = web_server.new_key()
    with _api(web_server, key) as api:
        for name in ("photo.jpg", "anim.gif", "alpha.png"):
            upload_file(api, files / name)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = context.new_page()
    try:
        _sign_in(phone, web_server, key)
        expect(_cards(phone)).to_have_count(3)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390  # nothing overflows sideways
        save_screenshot(phone, "phone", tmp_path)
    finally:
        context.close()


def test_keyboard_alone_opens_and_closes_a_detail_sheet(
    page: Any, web_server: RunningServer, files: Path
) -> None:
    key = web_server.new_key()
    with _api(web_server, key) as api:
        upload_file(api, files / "photo.jpg", description="A red square")
    _sign_in(page, web_server, key)
    expect(_cards(page)).to_have_count(1)
    assert page.get_attribute("#grid .card img", "alt") == "A red square"
    page.get_by_role("button", name=re.compile("^photo.jpg,")).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog", name="photo.jpg")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="photo.jpg")).to_be_hidden()


def test_every_text_meets_wcag_aa_contrast(
    page: Any, web_server: RunningServer, files: Path
) -> None:
    page.goto(web_server.base_url)
    assert page.evaluate(CONTRAST) == []  # sign-in
    key = web_server.new_key()
    with _api(web_server, key) as api:
        for name in ("photo.jpg", "clip.mp4", "doc.pdf"):
            upload_file(api, files / name, tags=["launch"])
        failed = api.post("/v1/media", files={"file": ("page.jpg", b"<html></html>", "image/jpeg")})
        assert failed.status_code == 415
    _sign_in(page, web_server, key)
    expect(page.locator("#grid .card[data-status=ready]")).to_have_count(3, timeout=30000)
    page.get_by_label("Status").select_option("")  # every status, the failed one too
    _drop(page, [(files / "page.html", "refused.jpg", "image/jpeg")])
    page.wait_for_selector(".upload.failed")
    assert page.evaluate(CONTRAST) == []  # grid, badges, upload row with its error
    page.get_by_role("button", name=re.compile(r"^photo\.jpg,")).click()
    expect(page.locator("#network-list li").first).to_be_visible()
    assert page.evaluate(CONTRAST) == []  # detail sheet with network badges


def test_import_from_url_shows_a_preview_then_imports_and_explains_refusals(
    page: Any, web_server: RunningServer, files: Path
) -> None:
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(files))
    handler.log_message = lambda *_: None  # type: ignore[attr-defined]
    origin = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=origin.serve_forever, daemon=True).start()
    try:
        _sign_in(page, web_server, web_server.new_key())
        page.get_by_role("button", name="Import from URL").click()
        dialog = page.get_by_role("dialog", name="Import from URL")
        address = dialog.get_by_label(re.compile("^Public https URL"))
        address.fill("http://169.254.169.254/latest/meta-data/")
        dialog.get_by_role("button", name="Check").click()
        expect(dialog.get_by_role("alert")).to_contain_text("not public")
        address.fill(f"http://127.0.0.1:{origin.server_address[1]}/photo.jpg")
        dialog.get_by_role("button", name="Check").click()
        expect(dialog.locator("dl")).to_contain_text("image/jpeg")
        expect(dialog.get_by_label("Name")).to_have_value("photo.jpg")
        dialog.get_by_label("Name").fill("From the web.jpg")
        dialog.get_by_role("button", name="Import", exact=True).click()
        expect(dialog).to_be_hidden()
        expect(page.locator("#grid .card .title")).to_have_text(["From the web.jpg"])
    finally:
        origin.shutdown()
        origin.server_close()
