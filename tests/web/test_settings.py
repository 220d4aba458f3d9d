"""The settings view in a real browser: storage against the quota, retention, an API key
made (shown once) and revoked, a webhook endpoint added whose delivery log shows each
delivery and sends one again, paused and resumed. Located by role and label."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.conftest import RunningServer
from tests.helpers import upload_file
from tests.web.conftest import save_screenshot
from tests.web.test_library import CONTRAST, _api, _sign_in
from tests.webhooks.conftest import Receiver


def test_webhook_delivery_log_and_send_again(
    page: Any,
    web_server: RunningServer,
    receiver: Receiver,
    files: Path,
    tmp_path: Path,
) -> None:
    key = web_server.new_key()
    _sign_in(page, web_server, key)
    page.get_by_role("link", name="Settings").click()
    hooks = page.get_by_role("region", name="Webhooks")
    hooks.get_by_label("Endpoint URL").fill(receiver.url)
    hooks.get_by_label("media.ready").check()
    hooks.get_by_role("button", name="Add endpoint").click()
    secret = hooks.get_by_label(re.compile("Signing secret for"))
    expect(secret).to_have_value(re.compile("^whsec_"))
    expect(hooks.get_by_role("listitem")).to_contain_text("Events: media.ready")

    receiver.answers = [503]  # the first attempt fails; the retry gets through
    receiver.body = b"try later"
    with _api(web_server, key) as api:
        upload_file(api, files / "photo.jpg")
    receiver.wait_for(1)
    hooks.get_by_role("button", name=f"Delivery log of {receiver.url}").click()
    log = hooks.get_by_role("table")
    row = log.get_by_role("row").filter(has_text="media.ready")
    # No Refresh: a pending delivery's row follows it on its own.
    expect(row).to_contain_text("succeeded", timeout=15000)
    expect(row).to_contain_text("HTTP 200")
    log.get_by_role("button", name="Every attempt of media.ready").click()
    attempts = log.get_by_role("listitem")
    expect(attempts).to_have_count(2)
    expect(attempts.first).to_contain_text("HTTP 503")
    expect(attempts.first).to_contain_text("try later")
    expect(attempts.nth(1)).to_contain_text("HTTP 200")
    log.get_by_role("button", name="Send media.ready again").first.click()
    receiver.wait_for(3)
    expect(log.get_by_role("row").filter(has_text="media.ready")).to_have_count(2)
    expect(log.get_by_role("row").filter(has_text="pending")).to_have_count(0, timeout=15000)
    save_screenshot(page, "settings", tmp_path)
    assert page.evaluate(CONTRAST) == []

    hooks.get_by_role("button", name=f"Pause {receiver.url}").click()
    expect(hooks.get_by_role("listitem").first).to_contain_text("paused")
    hooks.get_by_role("button", name=f"Resume {receiver.url}").click()
    expect(hooks.get_by_role("listitem").first).to_contain_text("on")


def test_keys_retention_and_storage(page: Any, web_server: RunningServer, files: Path) -> None:
    key = web_server.new_key()
    with _api(web_server, key) as api:
        upload_file(api, files / "photo.jpg")
    _sign_in(page, web_server, key)
    page.get_by_role("link", name="Settings").click()
    storage = page.get_by_role("region", name="Storage")
    expect(storage).to_contain_text(re.compile(r"\d.* used"))
    storage.get_by_label("Keep media").select_option("90")
    storage.get_by_role("button", name="Save").click()
    expect(storage.get_by_role("status")).to_have_text("Saved")
    with _api(web_server, key) as api:
        assert api.get("/v1/workspace").json()["retention_days"] == 90

    keys = page.get_by_role("region", name="API keys")
    keys.get_by_label("Name of a new key").fill("Phone app")
    keys.get_by_role("button", name="Create key").click()
    shown = keys.get_by_label(re.compile("The new key, shown this once"))
    expect(shown).to_have_value(re.compile("^mlk_"))
    new_key = shown.input_value()
    assert httpx.get(
        f"{web_server.base_url}/v1/media", headers={"Authorization": f"Bearer {new_key}"}
    ).is_success
    keys.get_by_role("button", name="Revoke Phone app").click()  # the dialog is accepted
    expect(keys.get_by_role("row").filter(has_text="Phone app")).to_contain_text("revoked")
    expect(shown).to_be_hidden()  # a revoked key is not left on show
    assert (
        httpx.get(
            f"{web_server.base_url}/v1/media", headers={"Authorization": f"Bearer {new_key}"}
        ).status_code
        == 401
    )
