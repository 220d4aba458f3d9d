"""The media-library page at `/` (static files shipped in the package; no build step)."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; "
        "connect-src 'self'; object-src 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
}


@router.get("/", response_class=HTMLResponse)
def index() -> HTMLResponse:
    page = (resources.files("medialib.web") / "static" / "index.html").read_text()
    return HTMLResponse(page, headers=_PAGE_HEADERS)
