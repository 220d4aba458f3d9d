"""Publishing as a person meets it, in a real browser against Bluesky's reference PDS: an
account added in Settings (a wrong password said where it was typed), a post that went
out with a link to it, one that failed with the reason and "Try again"."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.bluesky.pds import Pds
from tests.conftest import RunningServer
from tests.helpers import eventually
from tests.web.conftest import save_screenshot
from tests.web.test_library import CONTRAST, _api, _sign_in


def test_an_account_added_in_settings_publishes_and_the_posts_list_says_how_it_went(
    page: Any,
    web_server: RunningServer,
    pds: Pds,
    tmp_path: Path,
) -> None:
    key = web_server.new_key()
    owner = pds.new_account()
    _sign_in(page, web_server, key)
    page.get_by_role("link", name="Settings").click()
    accounts = page.get_by_role("region", name="Accounts")
    accounts.get_by_label("Network").select_option("bluesky")
    accounts.get_by_label("Handle").fill(owner.handle)
    accounts.get_by_label("App password").fill("wrong")
    accounts.get_by_label("Server (PDS), if not bsky.social").fill(pds.url)
    accounts.get_by_role("button", name="Add account").click()
    expect(accounts.get_by_role("alert")).to_contain_text("Invalid identifier or password")
    accounts.get_by_label("App password").fill(owner.password)
    accounts.get_by_role("button", name="Add account").click()
    expect(accounts.get_by_role("row").filter(has_text=owner.handle)).to_contain_text(
        "published by medialib"
    )
    save_screenshot(page, "settings-accounts", tmp_path)

    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1.5)).isoformat()
    with _api(web_server, key) as api:
        sent = api.post(
            "/v1/posts",
            json={
                "text": "Hello from the page",
                "targets": [{"platform": "bluesky"}],
                "scheduled_at": soon,
            },
        ).json()
        lost = api.post(
            "/v1/posts",
            json={
                "text": "Nobody to post as",
                "targets": [{"platform": "threads"}],
                "scheduled_at": soon,
            },
        ).json()
        for post in (sent, lost):
            eventually(
                lambda post=post: api.get(f"/v1/posts/{post['id']}").json()["status"],
                lambda status: status in ("published", "failed"),
                what="the posts to go out",
            )
    page.get_by_role("link", name="Posts").click()
    published = page.locator(f"li.post[data-id='{sent['id']}']")
    expect(published).to_contain_text("Published")
    link = published.get_by_role("link", name="View on Bluesky")
    expect(link).to_have_attribute("href", re.compile(r"^https://bsky\.app/profile/"))
    failed = page.locator(f"li.post[data-id='{lost['id']}']")
    expect(failed).to_contain_text("Threads: failed")
    expect(failed).to_contain_text("No Threads account to publish as")
    failed.get_by_role("button", name="Try Threads again").click()
    expect(page.locator(f"li.post[data-id='{lost['id']}']")).to_contain_text(
        "Threads: failed", timeout=15000
    )

    # The retry sends the post out again: until it has failed again it is not under
    # Failed (on a slow machine that outlasts one look), so the tab is opened afresh
    # until it lists it.
    def listed_as_failed() -> int:
        page.get_by_role("tab", name="All").click()
        page.get_by_role("tab", name="Failed").click()
        try:
            expect(page.locator("li.post")).to_have_count(1, timeout=2000)
        except AssertionError:
            return page.locator("li.post").count()
        return 1

    eventually(listed_as_failed, lambda count: count == 1, what="the retried post under Failed")
    page.get_by_role("tab", name="All").click()
    expect(page.locator("li.post")).to_have_count(2)
    save_screenshot(page, "posts-published", tmp_path)
    assert page.evaluate(CONTRAST) == []


def test_deleting_media_a_scheduled_post_uses_says_why_where_it_was_tried(
    page: Any, web_server: RunningServer, files: Path
) -> None:
    from tests.helpers import upload_file
    from tests.web.test_library import _open

    key = web_server.new_key()
    with _api(web_server, key) as api:
        photo = upload_file(api, files / "photo.jpg", filename="pinned.jpg")
        answer = api.post(
            "/v1/posts",
            json={
                "text": "Soon",
                "targets": [{"platform": "x"}],
                "media": [{"media_id": photo["id"]}],
                "scheduled_at": "2099-01-01T00:00:00Z",
            },
        )
        assert answer.status_code == 201, answer.text
    _sign_in(page, web_server, key)
    sheet = _open(page, "pinned.jpg")
    sheet.get_by_role("button", name="Delete").click()  # the confirm is accepted
    expect(sheet.get_by_role("alert")).to_contain_text("scheduled post")
    expect(sheet).to_be_visible()  # still there, and it says why


def test_a_hand_off_account_says_how_its_publisher_sends_files(
    page: Any, web_server: RunningServer, tmp_path: Path
) -> None:
    """The form asks a hand-off account how files go out (a Telegram bot uploads up to
    50 MB where a URL is fetched up to 20 MB); the list and the API say what was chosen."""
    key = web_server.new_key()
    _sign_in(page, web_server, key)
    page.get_by_role("link", name="Settings").click()
    accounts = page.get_by_role("region", name="Accounts")
    accounts.get_by_label("Network").select_option("bluesky")
    expect(accounts.get_by_label("Your publisher sends files")).to_be_hidden()
    accounts.get_by_label("Network").select_option("telegram")
    accounts.get_by_label("Handle").fill("acme_channel")
    accounts.get_by_label("Your publisher sends files").select_option("upload")
    accounts.get_by_role("button", name="Add account").click()
    expect(accounts.get_by_role("row").filter(has_text="acme_channel")).to_contain_text(
        "hand-off webhook, files uploaded"
    )
    accounts.get_by_label("Network").select_option("instagram")
    accounts.scroll_into_view_if_needed()
    save_screenshot(page, "settings-handoff-account", tmp_path)
    page.set_viewport_size({"width": 390, "height": 844})
    accounts.get_by_label("Your publisher sends files").scroll_into_view_if_needed()
    save_screenshot(page, "settings-handoff-account-phone", tmp_path)
    # On a phone the accounts table scrolls sideways in its own box, inside the page: its
    # last column (Remove) is reached by scrolling the table, never cut off.
    table = accounts.locator("table")
    edge = table.evaluate("t => t.getBoundingClientRect().right")
    assert edge <= 390 and table.evaluate("t => getComputedStyle(t).overflowX") == "auto"
    remove = accounts.get_by_role("button", name="Remove acme_channel")
    remove.scroll_into_view_if_needed()
    assert remove.bounding_box()["x"] + remove.bounding_box()["width"] <= 390
    with _api(web_server, key) as api:
        (account,) = api.get("/v1/accounts").json()["data"]
    assert account["network"] == "telegram"
    assert account["sends_files"] == "upload"
