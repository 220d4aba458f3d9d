"""An in-process scanner for tests of what happens around a scan (httpx's `MockTransport`
in spirit): it reads every byte like a real scanner, and reports a threat when the bytes
contain one of its signatures. It can be switched to "unavailable" to test failing closed.
The real scanner (ClamAV) is tested against a real daemon in tests/scanning/.
"""

from __future__ import annotations

from collections.abc import Iterable

from medialib.scanning.base import ScannerUnavailable, ScanVerdict

EICAR_SIGNATURE = b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE"


class FakeScanner:
    def __init__(self, signatures: dict[bytes, str] | None = None) -> None:
        self.signatures = signatures or {EICAR_SIGNATURE: "Eicar-Signature"}
        self.available = True
        self.scans = 0  # how many scans ran: tests assert work was (not) done

    def scan(self, chunks: Iterable[bytes]) -> ScanVerdict:
        if not self.available:
            raise ScannerUnavailable("the fake scanner is switched off")
        self.scans += 1
        longest = max(len(signature) for signature in self.signatures)
        tail = b""
        for chunk in chunks:
            window = tail + chunk
            for signature, threat in self.signatures.items():
                if signature in window:
                    return ScanVerdict(threat=threat)
            tail = window[-(longest - 1) :] if longest > 1 else b""
        return ScanVerdict()

    def ping(self) -> None:
        if not self.available:
            raise ScannerUnavailable("the fake scanner is switched off")
