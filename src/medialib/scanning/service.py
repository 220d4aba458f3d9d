"""Scanning stored bytes before they may become usable."""

from __future__ import annotations

from medialib import metrics
from medialib.errors import MediaRejectedSecurity, ScanIncomplete, ServiceUnavailable
from medialib.scanning.base import Scanner, ScannerUnavailable, ScanVerdict
from medialib.storage.base import ObjectBytes


def scan_object(
    scanner: Scanner | None, store: ObjectBytes, key: str, *, inline_max_bytes: int
) -> ScanVerdict | None:
    """Scan a stored object if scanning is on and it is small enough to scan now; None
    when it is not scanned now. Raises `ServiceUnavailable` when the scanner cannot answer
    (fail closed: nothing may be accepted unscanned)."""
    if scanner is None:
        return None  # scanning off: not even a stat
    info = store.stat(key)
    if info is None or info.size > inline_max_bytes:
        return None
    return scan_now(scanner, store, key)


def scan_now(scanner: Scanner, store: ObjectBytes, key: str) -> ScanVerdict:
    try:
        return counted(scanner.scan(store.iter_bytes(key)))
    except ScannerUnavailable as exc:
        metrics.SCANS.labels("unavailable").inc()
        raise ServiceUnavailable(
            "The virus scanner is unavailable; nothing was accepted. Try again shortly.",
            reason="scanner",
        ) from exc


def counted(verdict: ScanVerdict) -> ScanVerdict:
    outcome = "clean" if verdict.clean else "threat" if verdict.threat else "incomplete"
    metrics.SCANS.labels(outcome).inc()
    return verdict


def refuse_unclean(verdict: ScanVerdict | None) -> None:
    if verdict is None or verdict.clean:
        return
    if verdict.threat is not None:
        raise MediaRejectedSecurity(threat=verdict.threat)
    raise ScanIncomplete()
