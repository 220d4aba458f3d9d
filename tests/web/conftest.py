"""Debian's Chromium, driven by Playwright (browser downloads are impossible here)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI, RunningServer, running_server
from tests.webhooks.conftest import receiver  # noqa: F401 (the settings page's webhook tests)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail("Chromium is required in CI (scripts/test installs it)")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def web_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """The page is the same on both databases: browser tests use a SQLite server of their own."""
    # Import from URL can only reach loopback here: allow it (refused in production).
    with running_server(
        request, tmp_path_factory, "sqlite", allow_loopback_targets=True, import_allow_http=True
    ) as running:
        yield running


@pytest.fixture
def page(browser: object, web_server: RunningServer) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})  # type: ignore[attr-defined]
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on("dialog", lambda dialog: dialog.accept())
    yield opened
    context.close()
    assert not errors, errors


def save_screenshot(page: object, name: str, tmp_path: Path) -> Path:
    """Screenshots go to tmp; with MEDIALIB_UPDATE_SCREENSHOTS=1 to docs/screenshots too."""
    target = tmp_path / f"{name}.png"
    page.screenshot(path=str(target))  # type: ignore[attr-defined]
    if os.environ.get("MEDIALIB_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(target, SCREENSHOTS / f"{name}.png")
    return target


# Points across the viewport where the page shows an element's own background (nothing
# drawn on it there): each with the colour that background should have.
_BACKGROUND_POINTS = r"""() => {
  const points = [];
  for (let y = 0.05; y < 1; y += 0.1) for (let x = 0.05; x < 1; x += 0.1) {
    const px = Math.round(innerWidth * x), py = Math.round(innerHeight * y);
    const hit = document.elementFromPoint(px, py);
    if (!hit || hit.children.length && [...hit.children].some((child) => {
      const box = child.getBoundingClientRect();
      return px >= box.left && px <= box.right && py >= box.top && py <= box.bottom;
    })) continue;
    const containers = ['BODY', 'MAIN', 'SECTION', 'UL', 'DIV', 'DIALOG'];
    if (hit.textContent.trim() && !containers.includes(hit.tagName)) continue;
    let node = hit, colour = null;
    while (node && node.nodeType === 1) {
      const bg = getComputedStyle(node).backgroundColor;
      const parts = bg.match(/[\d.]+/g) || [];
      const opaque = parts.length >= 3 && (parts.length < 4 || Number(parts[3]) === 1);
      if (opaque) { colour = parts.slice(0, 3).map(Number); break; }
      node = node.parentElement;
    }
    if (colour) points.push([px, py, colour]);
  }
  return points;
}"""


def dimmed_areas(
    page: object, *, darker_by: int = 30
) -> list[tuple[int, int, list[int], list[int]]]:
    """Where the page looks darker than its own backgrounds say it is, while no dialog is
    open modally: a shade or an overlay left over (the crop box's 999 px shadow turned the
    whole composer grey). Returns (x, y, expected, seen) for each such point."""
    import pyvips

    if page.evaluate("() => !!document.querySelector('dialog[open]:modal')"):  # type: ignore[attr-defined]
        return []
    points = page.evaluate(_BACKGROUND_POINTS)  # type: ignore[attr-defined]
    shot = pyvips.Image.new_from_buffer(page.screenshot(), "")  # type: ignore[attr-defined]
    scale = shot.width / page.evaluate("() => innerWidth")  # type: ignore[attr-defined]
    found = []
    for x, y, expected in points:
        seen = [int(v) for v in shot(int(x * scale), int(y * scale))[:3]]
        if sum(expected) - sum(seen) > 3 * darker_by:
            found.append((x, y, expected, seen))
    return found
