"""Response bodies of the variants API: each network's verdict on a media and the file
made for it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from medialib.media.records import Variant
from medialib.schemas import ReasonOut
from medialib.storage.base import ObjectBytes


class VariantOut(BaseModel):
    url: str
    platforms: list[str]
    content_type: str
    width: int
    height: int
    size: int
    checksum_sha256: str | None = None  # of the variant's bytes
    fps: float | None = None  # videos
    codec: str | None = None  # videos
    duration_ms: int | None = None  # videos
    bitrate: int | None = None  # videos: bits a second
    method: Literal["encode", "remux", "image"] = "image"
    # Cut to an aspect ratio: the part of the upright original it shows; or padded to.
    crop: dict[str, int] | None = None
    padded_to: float | None = None


class PlatformVerdict(BaseModel):
    platform: str
    # Of the original as it is; amber means a variant is needed, and `variant` is it once
    # it has been made.
    verdict: Literal["green", "amber", "red"]
    # The network's post form this verdict is for (the best that takes this media), and
    # how the media goes out there when not as itself (video, still, gif).
    form: str | None = None
    send_as: str | None = None
    reasons: list[ReasonOut]
    variant: VariantOut | None = None


class Variants(BaseModel):
    id: str
    platforms: list[PlatformVerdict]
    # The variant files made (one may serve several networks). `variants_status`:
    # "pending" while they are being made, "ready" after, "none" for kinds without them.
    variants: list[VariantOut]
    variants_status: Literal["pending", "ready", "none"]


def present_variant(variant: Variant, store: ObjectBytes) -> VariantOut:
    return VariantOut(
        url=store.public_url(variant.key),
        platforms=list(variant.platforms),
        content_type=variant.content_type,
        width=variant.width,
        height=variant.height,
        size=variant.size,
        checksum_sha256=variant.checksum_sha256,
        fps=variant.fps,
        codec=variant.codec,
        duration_ms=variant.duration_ms,
        bitrate=variant.bitrate,
        method=variant.method,
        crop=variant.crop,
        padded_to=variant.padded_to,
    )
