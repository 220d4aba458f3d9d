"""Marks a route carries in its `openapi_extra`, read by the HTTP guards in front of the
routes (so no guard keeps a list of paths in step with the routers):

- `IDEMPOTENT`: creating calls that take an `Idempotency-Key` (documented in OpenAPI);
- `STREAMS_BODY`: calls whose body is a file, streamed to storage under caps of its own;
  every other body is small and read whole, so it is capped at a megabyte;
- `body_max(n)`: a JSON body allowed past that cap, up to `n` bytes (a post carrying
  small images inline).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute
from starlette.types import Scope

IDEMPOTENT_MARK = "x-medialib-idempotent"
STREAMS_BODY_MARK = "x-medialib-streams-body"

IDEMPOTENT: dict[str, Any] = {
    IDEMPOTENT_MARK: True,
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
            "description": (
                "A retry with the same key and request gets the first answer back "
                "(`Idempotent-Replayed: true`) instead of creating again; the same key with "
                "another request answers 422, and while the first still runs, 409. Kept 24 h."
            ),
        }
    ],
}
BODY_MAX_MARK = "x-medialib-body-max-bytes"
STREAMS_BODY: dict[str, Any] = {STREAMS_BODY_MARK: True}


def body_max(max_bytes: int) -> dict[str, Any]:
    return {BODY_MAX_MARK: max_bytes}


def both(*marks: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for mark in marks:
        for name, value in mark.items():
            merged[name] = merged.get(name, []) + value if isinstance(value, list) else value
    return merged


class MarkedRoutes:
    """The routes carrying one mark, and whether a request goes to one of them."""

    def __init__(self, routes: Iterable[BaseRoute], mark: str | None) -> None:
        """`mark` None: every API route."""
        self._routes = [
            route
            for route in routes
            if isinstance(route, APIRoute)
            and (mark is None or (route.openapi_extra or {}).get(mark))
        ]

    def match(self, scope: Scope) -> bool:
        return self.route_for(scope) is not None

    def route_for(self, scope: Scope) -> APIRoute | None:
        """The marked route for this method and path. Matched here by each route's path
        pattern and methods (what makes a full match): the framework's own `matches`
        costs ten times more, and the guards ask on every request."""
        path, method = _route_path(scope), scope["method"]
        for route in self._routes:
            if route.path_regex.match(path) and method in (route.methods or ()):
                return route
        return None


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path
