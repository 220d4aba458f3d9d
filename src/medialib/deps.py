"""The HTTP side's application state and the `Annotated` dependency aliases routes use.

Only routes (and the HTTP middleware) see `AppState`; what they call below gets the
`Runtime` or plain arguments.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from medialib.bulkhead import Bulkhead
from medialib.config import Settings
from medialib.db import session_scope
from medialib.jobs.broker import BrokerRunner
from medialib.jobs.runner import EmbeddedRunner
from medialib.runtime import Runtime
from medialib.storage.base import ObjectStore
from medialib.workspaces.key_cache import KeyCache
from medialib.workspaces.keys import api_key_from, authenticate
from medialib.workspaces.models import Workspace
from medialib.workspaces.repository import WorkspaceRepository


@dataclass
class AppState:
    runtime: Runtime
    engine: Engine
    runner: EmbeddedRunner | None
    broker: BrokerRunner | None = None
    # URL imports and probes wait on other servers: a pool of their own (see bulkhead.py).
    imports: Bulkhead = field(default_factory=lambda: Bulkhead("imports", size=4, queue=16))
    # Calls to AI providers a person waits for (prompt enhancing): a pool of their own too.
    providers: Bulkhead = field(
        default_factory=lambda: Bulkhead("provider calls", size=4, queue=16, per_owner=2)
    )
    keys: KeyCache = field(default_factory=KeyCache)

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def session_factory(self) -> sessionmaker[Session]:
        return self.runtime.session_factory

    @property
    def store(self) -> ObjectStore:
        return self.runtime.store

    @functools.cached_property
    def upload_origins(self) -> tuple[str, ...]:
        return self.store.upload_origins()


# Dependencies without I/O are `async def` so they run on the event loop. Sync ones run on
# the thread pool, one hop each; a database transaction must never stay open across a hop
# (on SQLite it holds the write lock while waiting for a free thread: a deadlock under load).


async def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.medialib
    return state


StateDep = Annotated[AppState, Depends(get_state)]


async def get_runtime(state: StateDep) -> Runtime:
    return state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(request: Request, state: StateDep) -> AsyncIterator[Session]:
    """A session per request; the route commits, anything uncommitted is rolled back.

    GET and HEAD only read: their sessions begin deferred on SQLite, beside any writer.
    Closed on the event loop (a fast rollback at most), so ending it needs no thread.
    """
    reads_only = request.method in ("GET", "HEAD")
    session = (state.runtime.reads if reads_only else state.session_factory)()
    try:
        yield session
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


@contextmanager
def reading(state: AppState) -> Iterator[Session]:
    """A read-only session opened and closed inside a sync route's own thread: for the
    hottest reads, cheaper than a per-request session dependency (no async context
    manager around the request, no close on the event loop)."""
    session = state.runtime.reads()
    try:
        yield session
    finally:
        session.close()


@contextmanager
def writing(state: AppState) -> Iterator[Session]:
    """A short writing transaction of its own inside a route that otherwise only reads
    (a GET that has something to queue): committed at the end, rolled back on error."""
    with session_scope(state.session_factory) as session:
        yield session


async def bearer_key(request: Request) -> str | None:
    """The key a request carries (read from the headers directly: this runs on every
    call, and FastAPI's header parameters cost more; the OpenAPI document declares the
    key as a security scheme instead, see openapi.py)."""
    headers = request.headers
    return api_key_from(headers.get("authorization"), headers.get("x-api-key"))


KeyDep = Annotated[str | None, Depends(bearer_key)]


def workspace_for_key(state: AppState, key: str | None) -> Workspace:
    """Authenticate in a short read session of its own (no session stays open while a
    body streams), through the cache of recently verified keys."""
    if key and (cached := state.keys.get(key)) is not None:
        return cached
    with session_scope(state.runtime.reads) as session:
        workspace = authenticate(session, key)
    assert key is not None  # authenticate refuses a missing key
    state.keys.put(key, workspace)
    return workspace


def workspace_is_live(state: AppState, workspace_id: str) -> bool:
    """Whether the workspace exists and is not deleted (a signed URL it was given earlier
    says nothing of that)."""
    with session_scope(state.runtime.reads) as session:
        return WorkspaceRepository(session).is_live(workspace_id)


async def authenticated(state: AppState, key: str | None) -> Workspace:
    """A recently verified key costs no database read and no thread; another is checked
    in a short session of its own, so a route's session is its only one."""
    if key and (cached := state.keys.get(key)) is not None:
        return cached
    return await run_in_threadpool(workspace_for_key, state, key)


async def current_workspace(request: Request) -> Workspace:
    state: AppState = request.app.state.medialib
    headers = request.headers
    return await authenticated(
        state, api_key_from(headers.get("authorization"), headers.get("x-api-key"))
    )


CurrentWorkspace = Annotated[Workspace, Depends(current_workspace)]
