"""Headers every response carries, whichever route (or FastAPI itself: /docs,
/openapi.json, static files, errors) made it.

- all: `X-Content-Type-Options: nosniff` (a browser never guesses a type) and
  `Referrer-Policy: no-referrer`;
- HTML: a Content-Security-Policy when the page set none (the library page sets its
  own; the API reference pages get one that allows the Swagger/ReDoc assets they load),
  a `Permissions-Policy` that turns off what no page here needs, and no framing.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import Message

_STRICT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# /docs and /redoc load their files from this server (no inline script); both set styles
# inline, and Redoc runs its search in a worker made from a blob.
_DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src blob:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
_DOCS_PATHS = ("/docs", "/redoc")
_PERMISSIONS = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"


def add_security_headers(message: Message, path: str) -> None:
    """Add what the answer (an `http.response.start` message) to `path` lacks."""
    headers = MutableHeaders(scope=message)
    headers.setdefault("x-content-type-options", "nosniff")
    headers.setdefault("referrer-policy", "no-referrer")
    if headers.get("content-type", "").startswith("text/html"):
        docs = path.startswith(_DOCS_PATHS)
        headers.setdefault("content-security-policy", _DOCS_CSP if docs else _STRICT_CSP)
        headers.setdefault("permissions-policy", _PERMISSIONS)
        headers.setdefault("x-frame-options", "DENY")
