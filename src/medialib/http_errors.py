"""Every error leaves the API as `{"error": {"code", "message", ...}}`, never as HTML or a
bare 500 traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from medialib.errors import MalformedBody, MedialibError, ServiceUnavailable, ValidationFailed

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def error_response(error: MedialibError) -> JSONResponse:
    headers: dict[str, str] = {}
    if error.status_code == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    return JSONResponse(
        {"error": error.to_dict()},
        status_code=error.status_code,
        headers=headers,
    )


# Checks the caller's key (raising `Unauthorized`) on routes that need one.
KeyCheck = Callable[[Request], Awaitable[None]]


def install(app: FastAPI, *, key_check: KeyCheck | None = None) -> None:
    @app.exception_handler(MedialibError)
    async def medialib_error(_: Request, exc: MedialibError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        # A body that is not even JSON is refused before any dependency runs: the key is
        # checked here first, so a wrong key always hears 401 before anything of its body.
        if key_check is not None:
            try:
                await key_check(request)
            except MedialibError as refused:
                return error_response(refused)
        problems = [_describe(problem) for problem in exc.errors()]
        if any(problem["type"] == "json_invalid" for problem in problems):
            return error_response(MalformedBody(errors=problems[:20]))
        return error_response(ValidationFailed(errors=problems[:20]))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        body = {"error": {"code": code, "message": str(exc.detail)}}
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return JSONResponse(body, status_code=exc.status_code, headers=headers)

    @app.exception_handler(ClientDisconnect)
    async def client_gone(request: Request, _: ClientDisconnect) -> Response:
        # A client that drops mid-upload is ordinary (a resumable upload keeps what came);
        # nobody reads this answer.
        log.info("client disconnected during %s %s", request.method, request.url.path)
        return Response(status_code=400)

    @app.exception_handler(OperationalError)
    async def database_down(_: Request, exc: OperationalError) -> JSONResponse:
        log.error("database unavailable: %s", exc)
        return error_response(ServiceUnavailable("The database is unavailable; try again."))

    @app.exception_handler(PoolTimeout)
    async def no_connection(_: Request, exc: PoolTimeout) -> JSONResponse:
        log.warning("no database connection free in time: %s", exc)
        busy = ServiceUnavailable("The server is busy; try again shortly.", reason="busy")
        return error_response(busy)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return error_response(MedialibError("Internal error; it has been logged."))


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route takes at this path (the router names only the first route
    it found). The application keeps its routes in `app.state.api_routes`."""
    routes = getattr(request.app.state, "api_routes", [])
    path = request.url.path
    matching = [r for r in routes if isinstance(r, APIRoute) and r.path_regex.match(path)]
    # A fixed path (/v1/media/trash) wins over a template that also matches it.
    exact = [route for route in matching if route.path == path]
    return sorted({method for route in exact or matching for method in route.methods or ()})


def _describe(problem: Any) -> dict[str, Any]:
    # Echo where and what, never the offending input itself.
    return {
        "type": str(problem.get("type", "")),
        "loc": [str(part) for part in problem.get("loc", ())],
        "msg": str(problem.get("msg", "")),
    }
