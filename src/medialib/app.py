"""Wiring: settings → database, object store, job runner → the FastAPI application."""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Literal

from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from pydantic import BaseModel

from medialib import __version__, clock, http_errors, memory, openapi
from medialib.account.endpoints import keys_router, usage_router
from medialib.account.endpoints import router as workspace_router
from medialib.bulkhead import Bulkhead
from medialib.config import Settings
from medialib.db import (
    make_engine,
    make_read_session_factory,
    make_session_factory,
    migrate,
    ping,
    session_scope,
)
from medialib.deps import AppState, StateDep, authenticated, current_workspace
from medialib.errors import Unauthorized
from medialib.generate.endpoints import router as generate_router
from medialib.guards.body import BodyLimitMiddleware
from medialib.guards.counters import MemoryCounters, RedisCounters, WindowCounters
from medialib.guards.edge import EdgeMiddleware
from medialib.guards.load import LoadShedMiddleware
from medialib.guards.rate import RateLimitMiddleware
from medialib.idempotency.middleware import IdempotencyMiddleware
from medialib.jobs.broker import BrokerRunner
from medialib.jobs.queue import dispatch_after_commit
from medialib.jobs.repository import JobRepository
from medialib.jobs.runner import EmbeddedRunner
from medialib.media.endpoints import router as media_router
from medialib.media.file_endpoints import router as files_router
from medialib.metrics import QueueDepth, registry_with, serve_apart
from medialib.platforms import rules as platform_rules
from medialib.posts.endpoints import router as posts_router
from medialib.posts.platform_endpoints import router as platforms_router
from medialib.publishing.endpoints import accounts_router
from medialib.publishing.endpoints import router as publishing_router
from medialib.runtime import Runtime
from medialib.scanning.base import Scanner
from medialib.scanning.clamd import scanner_for
from medialib.statistics import Housekeeper, refresh_if_stale
from medialib.storage.base import UPLOAD_PATH
from medialib.storage.factory import open_store
from medialib.tasks import load_handlers
from medialib.uploads.endpoints import router as uploads_router
from medialib.uploads.tus import router as tus_router
from medialib.variants import readiness
from medialib.variants.endpoints import router as variants_router
from medialib.web.views import mount_static
from medialib.web.views import router as web_router
from medialib.webhooks.endpoints import router as webhooks_router
from medialib.workspaces.key_cache import STAMP_FILE, KeyCache

log = logging.getLogger(__name__)

# What a browser client (Uppy, tus-js-client, a dashboard) on another origin sends and
# needs to read.
CORS_REQUEST_HEADERS = [
    "Authorization",
    "X-API-Key",
    "Content-Type",
    "Idempotency-Key",
    "Tus-Resumable",
    "Upload-Length",
    "Upload-Offset",
    "Upload-Metadata",
    "Upload-Checksum",
    "Upload-Defer-Length",
    "Upload-Concat",
    "X-HTTP-Method-Override",
    "X-Requested-With",
    "If-None-Match",
    "If-Modified-Since",
    "Range",
    "X-Request-Id",  # a client's own id for the request, echoed and logged
]
CORS_EXPOSED_HEADERS = [
    "Location",
    "Upload-Offset",
    "Upload-Length",
    "Upload-Expires",
    "Upload-Metadata",
    "Tus-Resumable",
    "Tus-Version",
    "Tus-Extension",
    "Tus-Max-Size",
    "Tus-Checksum-Algorithm",
    "Medialib-Media-Id",
    "Medialib-Media-Status",
    "Idempotent-Replayed",
    "Retry-After",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "ETag",
    "Last-Modified",
    "Content-Range",
    "Link",  # the next and previous pages of a list
    "X-Request-Id",
]


def build_state(
    settings: Settings, *, run_workers: bool, scanner: Scanner | None = None
) -> AppState:
    """`scanner`: one to use instead of the configured one (in-process tests)."""
    memory.limit_arenas()  # before the worker and request threads allocate
    if settings.clock_offset_seconds:
        clock.set_offset(dt.timedelta(seconds=settings.clock_offset_seconds))
    platform_rules.configure(settings.platforms_file)  # a bad value stops start-up here
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    session_factory = make_session_factory(engine)
    runtime = Runtime(
        settings=settings,
        session_factory=session_factory,
        read_session_factory=make_read_session_factory(engine),
        store=open_store(settings),
        scanner=scanner or scanner_for(settings),
    )
    runner, broker = None, None
    if settings.broker_url:
        # Jobs go to `medialib worker` processes through the broker.
        broker = BrokerRunner(runtime, load_handlers())
        dispatch_after_commit(session_factory, broker.dispatch)
    elif run_workers and settings.worker_threads > 0:
        runner = EmbeddedRunner(runtime, load_handlers(), queue_threads=settings.all_queue_threads)
        dispatch_after_commit(session_factory, runner.enqueued)
    imports = Bulkhead(
        "imports",
        size=settings.import_concurrency,
        queue=settings.import_queue,
        per_owner=max(1, settings.import_concurrency // 2),  # a share, not every slot
    )
    keys = KeyCache(stamp=settings.resolved_data_dir / STAMP_FILE)
    return AppState(
        runtime=runtime, engine=engine, runner=runner, broker=broker, imports=imports, keys=keys
    )


def create_app(
    settings: Settings | None = None, *, run_workers: bool = True, scanner: Scanner | None = None
) -> FastAPI:
    state = build_state(settings or Settings(), run_workers=run_workers, scanner=scanner)
    counters = _rate_counters(state.settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        to_thread.current_default_thread_limiter().total_tokens = state.settings.request_threads
        if state.runner is not None:
            state.runner.start()
        keeper = housekeeper_for(state)
        keeper.start()
        address = state.settings.metrics_address
        stop_metrics = serve_apart(address, metrics_registry(state)) if address else None
        try:
            yield
        finally:
            if stop_metrics is not None:
                stop_metrics()
            keeper.stop()
            if state.runner is not None:
                state.runner.stop()
            if state.broker is not None:
                state.broker.stop()
            await counters.aclose()
            state.engine.dispose()

    app = FastAPI(
        title="medialib",
        version=__version__,
        summary="Upload media once, check it, prepare it for every network.",
        lifespan=lifespan,
        generate_unique_id_function=openapi.operation_id,
        docs_url=None,  # served below from the package, not a CDN
        redoc_url=None,
    )
    openapi.install(app, server_url=state.settings.public_base_url)
    _install_docs(app)
    app.state.medialib = state
    http_errors.install(app, key_check=_key_check)
    routers = (
        media_router,
        variants_router,
        usage_router,
        posts_router,
        publishing_router,
        accounts_router,
        platforms_router,
        webhooks_router,
        workspace_router,
        keys_router,
        generate_router,
        uploads_router,
        tus_router,
        files_router,
        web_router,
    )
    for router in routers:
        app.include_router(router)
    # Routers are included as they are (no prefix added), so their routes match as declared.
    routes = [route for router in routers for route in router.routes]
    app.state.api_routes = routes
    app.add_middleware(IdempotencyMiddleware, state=state, routes=routes)
    # Added last, so it runs first: nothing reads a body it has not capped.
    app.add_middleware(BodyLimitMiddleware, routes=routes, max_bytes=state.settings.body_max_bytes)
    app.add_middleware(
        RateLimitMiddleware,
        counters=counters,
        per_minute=state.settings.rate_limit_per_minute,
        key_is_good=functools.partial(_key_is_good, state),
    )
    app.add_middleware(LoadShedMiddleware, max_inflight=state.settings.max_concurrent_requests)
    if state.settings.cors_origins:
        # Before the guards: a preflight needs no key and is never rate-limited.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=state.settings.cors_origins,
            allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=CORS_REQUEST_HEADERS,
            expose_headers=CORS_EXPOSED_HEADERS,
            max_age=600,
        )
    # Outermost: its request id on every record, its headers on every answer.
    app.add_middleware(EdgeMiddleware)
    mount_static(app)
    _add_health_routes(app)
    _add_metrics_route(app, state)
    return app


def _install_docs(app: FastAPI) -> None:
    """The API reference: Swagger UI 5 at /docs, Redoc at /redoc, both vendored in the
    package (web/static/vendor: it works offline, and the pages' CSP names no CDN)."""
    static = Path(__file__).parent / "web" / "static"

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse((static / "docs.html").read_text())

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return HTMLResponse((static / "redoc.html").read_text())


def _rate_counters(settings: Settings) -> WindowCounters:
    """Shared by every API process through Redis when that is the broker; else per process."""
    url = settings.broker_url or ""
    if url.startswith(("redis://", "rediss://")):
        return RedisCounters(url, namespace=settings.broker_namespace)
    return MemoryCounters()


def housekeeper_for(state: AppState) -> Housekeeper:
    """What every serving or working process keeps in order, every 5 minutes."""
    return Housekeeper(
        [
            lambda: refresh_if_stale(state.engine),
            lambda: readiness.backfill(state.runtime.session_factory),
        ]
    )


def metrics_registry(state: AppState) -> CollectorRegistry:
    """This process's metrics, with the depth of each job queue."""

    def waiting() -> dict[str, int]:
        with session_scope(state.runtime.reads) as session:
            return JobRepository(session).waiting_by_queue()

    return registry_with(QueueDepth(waiting))


def _add_metrics_route(app: FastAPI, state: AppState) -> None:
    if state.settings.metrics_address:
        return  # served on its own listener (see the lifespan): not on the public one
    registry = metrics_registry(state)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        """Prometheus metrics of this process (expose it to your scraper only)."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    # database, storage, jobs, scanner: "ok", "disabled" (scanning off) or what failed
    checks: dict[str, str]


def _add_health_routes(app: FastAPI) -> None:
    @app.get("/healthz", tags=["health"], response_model=Health)
    async def healthz() -> dict[str, str]:
        """200 while the process is up (on the event loop: it needs no thread, so it
        answers however busy the thread pool is)."""
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["health"],
        response_model=Readiness,
        responses={503: {"model": Readiness, "description": "A dependency does not answer."}},
    )
    def readyz(state: StateDep) -> JSONResponse:
        """200 when the database, the object store, the job runner and (when configured)
        the virus scanner answer; 503 otherwise. Scanning off shows as `disabled`."""
        checks = {
            "database": _check(lambda: ping(state.engine)),
            "storage": _check(state.store.check),
            "jobs": _jobs_check(state),
            "scanner": _scanner_check(state),
        }
        healthy = all(value in ("ok", "disabled") for value in checks.values())
        body = {"status": "ready" if healthy else "unavailable", "checks": checks}
        return JSONResponse(body, status_code=200 if healthy else 503)


def _scanner_check(state: AppState) -> str:
    scanner = state.runtime.scanner
    return "disabled" if scanner is None else _check(scanner.ping)


def _jobs_check(state: AppState) -> str:
    if state.broker is not None:
        return _check(state.broker.ping)
    return "ok" if state.runner is None or state.runner.alive else "down"


def _check(probe: object) -> str:
    try:
        probe()  # type: ignore[operator]
    except Exception as exc:
        log.warning("readiness check failed: %s", exc)
        return "down"
    return "ok"


async def _key_check(request: Request) -> None:
    """Every `/v1/` call but the signed upload URL takes a key (as the API document says)."""
    path = request.url.path
    if path.startswith("/v1/") and path != UPLOAD_PATH:
        await current_workspace(request)


async def _key_is_good(state: AppState, key: str) -> bool:
    try:
        await authenticated(state, key)
    except Unauthorized:
        return False
    return True
