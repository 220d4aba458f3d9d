"""Cursors for deep pages of the media list (keyset pagination): a cursor names the last
item a page showed by the values it is sorted on, so the next page is an index seek from
there, as fast at row 900,000 as at row 1, and stable while items are added.

A cursor is opaque to clients (URL-safe base64 of JSON); one made for another sort, or
tampered with, is refused as a validation error, never a 500: every value is checked to be
one a page could have given (an id of the media id form, a name a database can hold, a
count within a column's range) before it reaches a query.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

from medialib.errors import ValidationFailed
from medialib.media.schemas import SortOrder


@dataclass(frozen=True, slots=True)
class After:
    """The sort values of the last item seen: the next page starts past it."""

    sort: SortOrder
    created_at: dt.datetime
    media_id: str
    name: str = ""  # sort=name: the lower-cased filename
    usage_count: int = 0  # sort=most_used


def encode_cursor(after: After) -> str:
    values: list[Any] = [after.sort, after.created_at.isoformat(), after.media_id]
    if after.sort == "name":
        values.append(after.name)
    elif after.sort == "most_used":
        values.append(after.usage_count)
    raw = json.dumps(values, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: SortOrder) -> After:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        kind, created, media_id, *rest = values
        if kind != sort:
            raise ValueError("made for another sort")
        if not isinstance(created, str) or not isinstance(media_id, str):
            raise ValueError("not a cursor")
        moment = dt.datetime.fromisoformat(created)
        if moment.tzinfo is None or not _MEDIA_ID.fullmatch(media_id):
            raise ValueError("not a cursor")
        if sort == "name":
            (name,) = rest
            if not _storable_text(name):
                raise ValueError("not a cursor")
            return After(sort, moment, media_id, name=name)
        if sort == "most_used":
            (count,) = rest
            if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count < 2**31:
                raise ValueError("not a cursor")
            return After(sort, moment, media_id, usage_count=count)
        if rest:
            raise ValueError("not a cursor")
        return After(sort, moment, media_id)
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeError) as exc:
        raise ValidationFailed(
            "This cursor is not one this list gave (or was made for another sort).",
            field="cursor",
        ) from exc


# A media id as `new_id` makes it (or as a test or an import names one): letters and digits.
_MEDIA_ID = re.compile("med_[0-9A-Za-z]{1,60}")


def _storable_text(value: object) -> bool:
    """Text a filename could be: bounded, valid UTF-8 (no lone surrogate), no NUL (which
    PostgreSQL refuses in text)."""
    if not isinstance(value, str) or len(value) > 1024 or "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
