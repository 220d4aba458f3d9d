"""The media-library page at `/` (static files shipped in the package; no build step)."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from medialib.deps import StateDep

router = APIRouter(include_in_schema=False)
STATIC_DIR = resources.files("medialib.web") / "static"


def mount_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")


def page_headers(upload_origins: tuple[str, ...]) -> dict[str, str]:
    """The page may send bytes to medialib and to where its store's upload URLs point (a
    bucket), nowhere else."""
    connect = " ".join(("'self'", *upload_origins))
    return {
        "Content-Security-Policy": (
            "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; "
            f"connect-src {connect}; object-src 'none'; base-uri 'none'; "
            "frame-ancestors 'none'; form-action 'self'"
        ),
        "X-Content-Type-Options": "nosniff",
    }


@router.get("/", response_class=HTMLResponse)
def index(state: StateDep) -> HTMLResponse:
    page = (STATIC_DIR / "index.html").read_text()
    return HTMLResponse(page, headers=page_headers(state.upload_origins))


@router.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for it whatever the page links: the same icon (SVG), not a 404."""
    icon = (STATIC_DIR / "favicon.svg").read_bytes()
    return Response(
        icon, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"}
    )
