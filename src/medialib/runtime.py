"""What flows and job handlers work with, built once per process (`app.build_runtime`):
the settings, the database's session factory, the object store and the virus scanner.

Routes reach it through `deps`; everything else is handed it explicitly, never the
HTTP application's state.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from medialib.config import Settings
from medialib.fetch.fetcher import HTTP_FETCHER, Fetcher
from medialib.scanning.base import Scanner
from medialib.storage.base import ObjectStore


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    session_factory: sessionmaker[Session]
    store: ObjectStore
    # None: scanning is off (MEDIALIB_CLAMD_URL unset), and media and /readyz say so.
    scanner: Scanner | None = None
    # Sessions for work that only reads (on SQLite: deferred, beside any writer); None:
    # the same as `session_factory`.
    read_session_factory: sessionmaker[Session] | None = None
    # Every call out of the process (providers, connectors, webhooks); tests may hand a
    # fake (fetch/fake.py).
    fetcher: Fetcher = HTTP_FETCHER

    @property
    def reads(self) -> sessionmaker[Session]:
        return self.read_session_factory or self.session_factory
