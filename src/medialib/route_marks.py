"""Marks a route carries in its `openapi_extra`, read by the HTTP guards in front of the
routes (so no guard keeps a list of paths in step with the routers):

- `IDEMPOTENT`: creating calls that take an `Idempotency-Key` (documented in OpenAPI);
- `STREAMS_BODY`: calls whose body is a file, streamed to storage under caps of its own;
  every other body is small and read whole, so it is capped at a megabyte.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Match
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
STREAMS_BODY: dict[str, Any] = {STREAMS_BODY_MARK: True}


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
        return any(route.matches(scope)[0] == Match.FULL for route in self._routes)
