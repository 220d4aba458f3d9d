"""The scanner contract: one narrow Protocol for a virus scanner. `clamd.py` is the real
one (a ClamAV daemon), `fake.py` the in-process stand-in for tests of the flows around it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol


class ScannerUnavailable(Exception):
    """The scanner could not give an answer (down, slow, or an error): try again later."""


@dataclass(frozen=True, slots=True)
class ScanVerdict:
    threat: str | None = None
    # The scan stopped at one of the scanner's size limits: not clean, not a threat either.
    incomplete: bool = False

    @property
    def clean(self) -> bool:
        return self.threat is None and not self.incomplete


class Scanner(Protocol):
    def scan(self, chunks: Iterable[bytes]) -> ScanVerdict:
        """Read every chunk; the verdict, or `ScannerUnavailable` (never "clean" by default)."""
        ...

    def ping(self) -> None:
        """Raise `ScannerUnavailable` when the scanner cannot answer (for /readyz)."""
        ...
