"""User filenames are metadata only: cleaned for storage and for HTTP headers."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

MAX_FILENAME_CHARS = 255
_FALLBACK = "file"


def clean_filename(raw: str | None) -> str:
    """Drop path parts and control/format characters (NUL, CR/LF, RTL override), cap length."""
    if not raw:
        return _FALLBACK
    # Category C* covers Cc (controls) and Cf (bidi overrides, zero-width characters).
    visible = "".join(ch for ch in raw if not unicodedata.category(ch).startswith("C"))
    name = visible.replace("\\", "/").rsplit("/", 1)[-1].strip().lstrip(".").strip()
    if not name:
        return _FALLBACK
    if len(name) <= MAX_FILENAME_CHARS:
        return name
    stem, dot, ext = name.rpartition(".")
    if dot and 0 < len(ext) <= 16:
        return stem[: MAX_FILENAME_CHARS - len(ext) - 1] + "." + ext
    return name[:MAX_FILENAME_CHARS]


def content_disposition(filename: str, *, inline: bool) -> str:
    """RFC 6266: an ASCII fallback plus the exact name as `filename*=UTF-8''…`."""
    cleaned = clean_filename(filename)
    ascii_name = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in cleaned)
    disposition = "inline" if inline else "attachment"
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(cleaned, safe='')}"
