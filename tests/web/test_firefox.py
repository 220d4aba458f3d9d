"""The web library in Debian's Firefox ESR, over WebDriver BiDi (see bidi.py).

The Chromium tests drive every feature with real input; this run checks the same page on
Firefox's engine along the main path: sign in, drop files (one big enough to go as a
resumable upload in pieces), watch them turn ready, search, open a detail sheet, and a
hostile name shown as text. Clicks and typing are done through the DOM here.
"""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import mediafiles
from tests.conftest import IN_CI, RunningServer
from tests.web.bidi import FIREFOX, Firefox
from tests.web.conftest import SCREENSHOTS

HOSTILE = '<img src=x onerror="window.__pwned=1">.png'
COLLECT_ERRORS = """() => {
    window.__errors = [];
    window.addEventListener("error", (e) => window.__errors.push(String(e.message)));
    window.addEventListener("unhandledrejection", (e) => window.__errors.push(String(e.reason)));
}"""
DROP = """
    const transfer = new DataTransfer();
    for (const file of args[0]) {
        const bytes = Uint8Array.from(atob(file.b64), (c) => c.charCodeAt(0));
        const options = { type: file.type, lastModified: 1700000000000 };
        transfer.items.add(new File([bytes], file.name, options));
    }
    for (const type of ["dragenter", "drop"]) {
        document.body.dispatchEvent(
            new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }
"""


@pytest.fixture(scope="module")
def firefox() -> Iterator[Firefox]:
    if not Path(FIREFOX).exists():
        if IN_CI:
            pytest.fail("Firefox is required in CI (scripts/test installs firefox-esr)")
        pytest.skip("Firefox is not installed (apt-get install firefox-esr)")
    browser = Firefox.launch()
    browser.command("script.addPreloadScript", {"functionDeclaration": COLLECT_ERRORS})
    yield browser
    browser.close()


def _files(*entries: tuple[Path, str, str]) -> list[dict[str, str]]:
    return [
        {"name": name, "type": mime, "b64": base64.b64encode(path.read_bytes()).decode()}
        for path, name, mime in entries
    ]


def test_the_library_works_in_firefox(
    firefox: Firefox, web_server: RunningServer, files: Path, tmp_path: Path
) -> None:
    assert int(firefox.version.split(".")[0]) >= 115
    tab = firefox.new_tab()
    tab.set_viewport(1280, 860)
    tab.navigate(web_server.base_url)
    tab.js(
        """localStorage.setItem("medialib.resumableAbove", "1000000");
           localStorage.setItem("medialib.chunkBytes", String(1024 * 1024));"""
    )
    tab.navigate(web_server.base_url)  # the page reads those settings as it loads
    tab.js(
        """document.querySelector("#api-key").value = args[0];
           document.querySelector("#sign-in-form").requestSubmit();""",
        web_server.new_key(),
    )
    tab.wait_for("!document.querySelector('#library').hidden")

    big = mediafiles.noisy_jpeg(tmp_path / "big.jpg")
    tab.js(
        DROP,
        _files(
            (files / "photo.jpg", "photo.jpg", "image/jpeg"),
            (files / "clip.mp4", "clip.mp4", "video/mp4"),
            (big, "big.jpg", "image/jpeg"),
            (files / "alpha.png", HOSTILE, "image/png"),
        ),
    )
    settled = tab.wait_for(
        """document.querySelector('.upload.failed .status')?.textContent
           || document.querySelectorAll('.upload.done').length === 4""",
        timeout=60,
    )
    assert settled is True, settled
    tab.wait_for("document.querySelectorAll('#grid .card[data-status=ready]').length === 4")
    tab.wait_for(
        """[...document.querySelectorAll('#grid .card img')]
           .every((img) => img.complete && img.naturalWidth > 0)"""
    )
    assert tab.js("return document.querySelector('#total').textContent;") == "4 items"

    # The hostile name is text: shown as typed, never an element, never run.
    assert tab.js(
        """return [...document.querySelectorAll('#grid .card')]
               .some((card) => card.textContent.includes(args[0]));""",
        HOSTILE,
    )
    assert tab.js("return document.querySelectorAll('img[src=x]').length;") == 0
    assert tab.js("return window.__pwned ?? null;") is None

    tab.js(
        """const box = document.querySelector("#q");
           box.value = "clip";
           box.dispatchEvent(new Event("input", { bubbles: true }));"""
    )
    tab.wait_for("location.search.includes('q=clip')")
    tab.wait_for("document.querySelectorAll('#grid .card').length === 1")

    tab.js("document.querySelector('#grid .card button.open').click();")
    tab.wait_for("document.querySelector('#detail').open")
    tab.wait_for("!!document.querySelector('#detail-preview video')")
    tab.wait_for("document.querySelectorAll('#network-list li').length >= 11")
    assert "clip.mp4" in tab.js("return document.querySelector('#detail-title').textContent;")
    shot = tab.screenshot(tmp_path / "firefox-detail.png")
    if os.environ.get("MEDIALIB_UPDATE_SCREENSHOTS") == "1":
        shutil.copy(shot, SCREENSHOTS / "firefox-detail.png")

    assert tab.js("return window.__errors;") == []


def test_the_composer_works_in_firefox(
    firefox: Firefox, web_server: RunningServer, files: Path
) -> None:
    """A post for Instagram and Bluesky from two library photos, checked and scheduled."""
    from tests.helpers import upload_file, wait_settled
    from tests.web.test_library import _api

    key = web_server.new_key()
    with _api(web_server, key) as api:
        for name in ("first.jpg", "second.jpg"):
            wait_settled(api, upload_file(api, files / "photo.jpg", filename=name)["id"])
    tab = firefox.new_tab()
    tab.set_viewport(1280, 860)
    tab.navigate(f"{web_server.base_url}/#posts")
    tab.js(
        """document.querySelector("#api-key").value = args[0];
           document.querySelector("#sign-in-form").requestSubmit();""",
        key,
    )
    tab.wait_for("!document.querySelector('#posts-view').hidden")
    tab.js("document.querySelector('#new-post').click();")
    tab.wait_for("document.querySelector('#composer').open")
    tab.js(
        """const text = document.querySelector("#post-text");
           text.value = "From Firefox";
           text.dispatchEvent(new Event("input", { bubbles: true }));
           for (const id of ["instagram", "bluesky"]) {
             document.querySelector(`#post-networks input[value=${id}]`).click();
           }
           document.querySelector("#post-add-media").click();"""
    )
    tab.wait_for("document.querySelectorAll('#picker-grid button.open').length === 2")
    tab.js(
        """const choices = document.querySelectorAll('#picker-grid button.open');
           for (const button of choices) button.click();
           document.querySelector('#picker-add').click();"""
    )
    tab.wait_for("document.querySelectorAll('#post-media li').length === 2")
    tab.wait_for(
        "document.querySelectorAll('#post-check section.check.ok').length === 2", timeout=30
    )
    tab.js(
        """const when = document.querySelector("#post-when");
           const next = new Date(Date.now() + 86400000);
           const pad = (n) => String(n).padStart(2, "0");
           const day = `${pad(next.getMonth() + 1)}-${pad(next.getDate())}`;
           when.value = `${next.getFullYear()}-${day}T12:00`;
           document.querySelector("#post-schedule").click();"""
    )
    tab.wait_for("!document.querySelector('#composer').open")
    tab.wait_for("document.querySelector('#post-list')?.textContent.includes('From Firefox')")
    with _api(web_server, key) as api:
        [post] = api.get("/v1/posts").json()["data"]
    assert post["status"] == "scheduled" and len(post["media"]) == 2
    assert tab.js("return window.__errors;") == []
