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
    size: int | None = None
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
    checksum_sha256: str | None = None
    fps: float | None = None  # videos: its (constant) frame rate
    codec: str | None = None  # videos: h264
    duration_ms: int | None = None
    bitrate: int | None = None  # videos: bits a second, all streams
    method: Literal["encode", "remux", "image"] = "image"
    # The part of the upright original it shows (when cropped to an aspect ratio), or
    # the ratio it was padded to: a page can preview either.
    crop: dict[str, int] | None = None
    padded_to: float | None = None
    # The limits it was made for (platforms/variants.py specs, as a dict), and the
    # version of the rules that asked for it.
    spec: dict[str, Any]
    rules_version: str | None = None


class Framing(Record):
    """How the user wants a media fitted to a network's aspect ratio: cropped around a
    focal point (theirs, or where libvips' attention-based smart crop looks), or padded."""

    fit: Literal["crop", "pad"] = "crop"
    focal_x: float | None = None  # 0-1 across the upright picture
    focal_y: float | None = None  # 0-1 down it


class UsableFile(Record):
    """The stored file that stands for a media wherever it is used: its original, or for
    a HEIC/HEIF the JPEG rendition (browsers and networks cannot take HEIC)."""

    key: str
    content_type: str
    size: int | None = None
