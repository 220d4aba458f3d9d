"""What the networks' rules need to know of a media (or of a variant made of it), and
their verdicts on it."""

from __future__ import annotations

from typing import Any

from medialib.errors import InvalidState
from medialib.media.models import Media, MediaStatus
from medialib.media.records import Variant
from medialib.platforms.reasons import FORMAT_OF_TYPE, Facts, Verdict
from medialib.platforms.rules import Catalog
from medialib.platforms.verdicts import judge_all

# The audio container names the probe reports, as the networks' format lists name them.
_AUDIO_FORMATS = {"m4a": "m4a", "mp3": "mp3", "aac": "aac", "wav": "wav", "ogg": "ogg"}


def facts_of(media: Media) -> Facts:
    """The facts of what a network would be sent: for a HEIC, its JPEG rendition."""
    metadata: dict[str, Any] = media.media_metadata or {}
    usable = media.usable_file
    size = usable.size if usable.size is not None else media.size
    framing = media.framing
    return Facts(
        kind=media.network_kind,
        format=_format(media, usable.content_type, metadata),
        size=size,
        width=media.width,
        height=media.height,
        duration_ms=media.duration_ms,
        container=metadata.get("container"),
        codec=metadata.get("codec"),
        fps=metadata.get("fps"),
        frames=metadata.get("frames"),
        pages=metadata.get("pages"),
        pix_fmt=metadata.get("pix_fmt"),
        interlaced=metadata.get("interlaced"),
        sample_aspect=metadata.get("sample_aspect_ratio"),
        rendition_of=FORMAT_OF_TYPE.get(media.content_type or "") if media.display else None,
        moov_first=metadata.get("moov_first"),
        edit_lists=metadata.get("edit_lists"),
        video_bitrate=metadata.get("video_bitrate"),
        rotation=int(metadata.get("rotation") or 0),
        has_audio=bool(metadata.get("has_audio") or metadata.get("audio_codec")),
        audio_codec=metadata.get("audio_codec"),
        audio_profile=metadata.get("audio_profile"),
        audio_channels=metadata.get("audio_channels"),
        audio_sample_rate=metadata.get("audio_sample_rate"),
        audio_bitrate=metadata.get("audio_bitrate"),
        colour_space=metadata.get("colour_space"),
        fit=framing.fit if framing is not None else "crop",
    )


def variant_facts(media: Media, variant: Variant) -> Facts:
    """The facts of a variant file, as made: an MP4 is H.264 4:2:0, progressive, `moov`
    first without edit lists, AAC-LC stereo (processing/transcode.py makes them so, and
    tests/mediacheck.py proves it from the bytes)."""
    video = variant.content_type.startswith("video/")
    kind = "video" if video else ("gif" if variant.content_type == "image/gif" else "image")
    source = facts_of(media)
    kept = video and variant.method == "remux"
    return Facts(
        kind=kind,
        format=FORMAT_OF_TYPE.get(variant.content_type),
        size=variant.size,
        width=variant.width,
        height=variant.height,
        duration_ms=variant.duration_ms if video else source.duration_ms,
        container="mp4" if video else None,
        codec=variant.codec,
        fps=variant.fps,
        frames=source.frames if kind == "gif" else None,
        # A remux keeps the source's pictures (10-bit HDR stays so); an encode makes 8-bit
        # 4:2:0, progressive, square pixels.
        pix_fmt=(source.pix_fmt if kept else "yuv420p") if video else None,
        interlaced=(source.interlaced if kept else False) if video else None,
        sample_aspect=source.sample_aspect if kept else None,
        moov_first=True if video else None,
        edit_lists=False if video else None,
        video_bitrate=variant.bitrate,
        has_audio=video and source.has_audio,
        audio_codec="aac" if video and source.has_audio else None,
        audio_profile="LC" if video and source.has_audio else None,
        audio_channels=min(source.audio_channels or 2, 2) if video and source.has_audio else None,
        audio_sample_rate=source.audio_sample_rate if video and source.has_audio else None,
        colour_space="srgb" if not video else None,
        fit=source.fit,
    )


def _format(media: Media, content_type: str, metadata: dict[str, Any]) -> str | None:
    if media.kind == "audio":
        container = metadata.get("container")
        if container == "ogg" and metadata.get("audio_codec") == "opus":
            return "opus"
        return _AUDIO_FORMATS.get(str(container), FORMAT_OF_TYPE.get(content_type))
    return FORMAT_OF_TYPE.get(content_type)


def verdicts_of(media: Media, rules: Catalog | None = None) -> list[Verdict]:
    """Each network's verdict on a ready media (green, amber, red, with reasons)."""
    if media.status != MediaStatus.READY:
        raise InvalidState(
            f"Verdicts are given for ready media; this one is {media.status}.",
            status=media.status,
        )
    return judge_all(facts_of(media), rules)
