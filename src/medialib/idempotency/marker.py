"""Marking a route idempotent: `@router.post(..., openapi_extra=IDEMPOTENT)`. The mark
documents the `Idempotency-Key` header in the OpenAPI document and is what the
idempotency middleware looks for (no list of paths to keep in step)."""

from __future__ import annotations

from typing import Any

MARK = "x-medialib-idempotent"

IDEMPOTENT: dict[str, Any] = {
    MARK: True,
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


def is_idempotent(openapi_extra: dict[str, Any] | None) -> bool:
    return bool((openapi_extra or {}).get(MARK))
