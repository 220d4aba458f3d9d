"""Scanning stored bytes before they may become usable."""

from __future__ import annotations

from medialib.config import Settings
from medialib.errors import MediaRejectedSecurity, ScanIncomplete, ServiceUnavailable
from medialib.scanning.clamd import ScannerUnavailable, ScanVerdict, scanner_for
from medialib.storage.base import ObjectStore

# `metadata.scan.status` of a media: what is known of its bytes.
SCAN_OFF = "off"  # no scanner configured (readyz says so too)
SCAN_CLEAN = "clean"
SCAN_PENDING = "pending"  # too big to scan during confirm: its processing job scans first


def scan_object(settings: Settings, store: ObjectStore, key: str) -> ScanVerdict | None:
    """Scan a stored object if scanning is on and it is small enough to scan now; None
    when it is not scanned now. Raises `ServiceUnavailable` when the scanner cannot answer
    (fail closed: nothing may be accepted unscanned)."""
    if not settings.clamd_url:
        return None  # scanning off: not even a stat
    info = store.stat(key)
    if info is None or info.size > settings.scan_inline_max_bytes:
        return None
    return scan_now(settings, store, key)


def scan_now(settings: Settings, store: ObjectStore, key: str) -> ScanVerdict:
    scanner = scanner_for(settings)
    assert scanner is not None
    try:
        return scanner.scan(store.iter_bytes(key))
    except ScannerUnavailable as exc:
        raise ServiceUnavailable(
            "The virus scanner is unavailable; nothing was accepted. Try again shortly.",
            reason="scanner",
        ) from exc


def refuse_unclean(verdict: ScanVerdict | None) -> None:
    if verdict is None or verdict.clean:
        return
    if verdict.threat is not None:
        raise MediaRejectedSecurity(threat=verdict.threat)
    raise ScanIncomplete()
