"""What the networks' rules need to know of a media, and their verdicts on it."""

from __future__ import annotations

from medialib.errors import InvalidState
from medialib.media.models import Media, MediaStatus
from medialib.platforms.verdicts import Facts, Verdict, judge_all


def facts_of(media: Media) -> Facts:
    metadata = media.media_metadata or {}
    return Facts(
        kind=media.kind,
        content_type=media.usable_file.content_type or None,
        size=media.size,
        width=media.width,
        height=media.height,
        duration_ms=media.duration_ms,
        container=metadata.get("container"),
        codec=metadata.get("codec"),
        fps=metadata.get("fps"),
        frames=metadata.get("frames"),
        pages=metadata.get("pages"),
    )


def verdicts_of(media: Media) -> list[Verdict]:
    """Each network's verdict on a ready media (green, amber, red, with reasons)."""
    if media.status != MediaStatus.READY:
        raise InvalidState(
            f"Verdicts are given for ready media; this one is {media.status}.",
            status=media.status,
        )
    return judge_all(facts_of(media))
