"""Typed records kept in the media row's JSON columns: the files derived from an original
(preview, HEIC rendition) and the per-network variants. Frozen: a change is a new record.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

PreviewSource = Literal["generated", "custom", "original"]


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class DerivedFile(Record):
    """A file made from the original and stored beside it."""

    key: str
    width: int | None = None
    height: int | None = None
    content_type: str
    # Previews only: how it was made, which frame, and the request that made it (so the
    # same request again is a no-op).
    source: PreviewSource = "generated"
    frame_time_ms: int | None = None
    request: dict[str, Any] | None = None


class Variant(Record):
    """A file made for one or more networks whose rules the original does not meet."""

    key: str
    platforms: tuple[str, ...]
    content_type: str
    width: int
    height: int
    size: int
    fps: float | None = None
    # The limits it was made for (platforms/variants.py specs, as a dict).
    spec: dict[str, Any]


class UsableFile(Record):
    """The stored file that stands for a media wherever it is used: its original, or for
    a HEIC/HEIF the JPEG rendition (browsers and networks cannot take HEIC)."""

    key: str
    content_type: str
