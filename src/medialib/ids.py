"""Identifiers: a short type prefix and a time-sortable ULID (`med_01J…`)."""

from __future__ import annotations

import secrets

from ulid import ULID


def new_id(prefix: str) -> str:
    return f"{prefix}_{ULID()}"


def new_token(nbytes: int = 16) -> str:
    """An unguessable URL-safe token (128 bits by default)."""
    return secrets.token_urlsafe(nbytes)
