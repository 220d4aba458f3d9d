"""Application state and the `Annotated` dependency aliases routes use."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from medialib.config import Settings
from medialib.db import session_scope
from medialib.jobs.broker import BrokerRunner
from medialib.jobs.runner import EmbeddedRunner
from medialib.media.service import MediaService
from medialib.storage.base import ObjectStore
from medialib.workspaces.models import Workspace
from medialib.workspaces.service import authenticate


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    store: ObjectStore
    runner: EmbeddedRunner | None
    broker: BrokerRunner | None = None


# Dependencies without I/O are `async def` so they run on the event loop. Sync ones run on
# the thread pool, one hop each; a database transaction must never stay open across a hop
# (on SQLite it holds the write lock while waiting for a free thread: a deadlock under load).


async def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.medialib
    return state


StateDep = Annotated[AppState, Depends(get_state)]


async def get_session(state: StateDep) -> AsyncIterator[Session]:
    """A session per request; the route commits, anything uncommitted is rolled back.

    Closed on the event loop (a fast rollback at most), so ending it needs no thread.
    """
    session = state.session_factory()
    try:
        yield session
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


async def bearer_key(
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
) -> str | None:
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip()
    return x_api_key.strip() if x_api_key else None


KeyDep = Annotated[str | None, Depends(bearer_key)]


def workspace_for_key(state: AppState, key: str | None) -> Workspace:
    """Authenticate in a short session of its own, for routes that stream a body: no
    session may stay open while bytes flow."""
    with session_scope(state.session_factory) as session:
        return authenticate(session, key)


def current_workspace(
    session: SessionDep, key: Annotated[str | None, Depends(bearer_key)]
) -> Workspace:
    workspace = authenticate(session, key)
    session.commit()  # end the read transaction before the next thread hop
    return workspace


CurrentWorkspace = Annotated[Workspace, Depends(current_workspace)]


async def media_service(session: SessionDep, state: StateDep) -> MediaService:
    return MediaService(session, store=state.store, settings=state.settings)


MediaServiceDep = Annotated[MediaService, Depends(media_service)]
