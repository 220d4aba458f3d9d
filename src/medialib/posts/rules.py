"""What a network allows in one post (counts, mixing), read from the same data file as
the media rules. The file describes each network in its own words (Instagram's carousel,
LinkedIn's multi-image, TikTok's photos): this takes the largest form each allows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_COUNT_KEYS = {
    "items": ("max_items", "album_max_items"),
    "images": ("max_images", "max_photos"),
    "videos": ("max_videos",),
    "gifs": ("max_gifs",),
    "documents": ("max_documents",),
}


@dataclass(frozen=True, slots=True)
class PostLimits:
    max_items: int | None
    max_images: int | None
    max_videos: int | None
    max_gifs: int | None
    max_documents: int | None
    allow_mixing: bool

    def most(self, kind: str) -> int | None:
        """The most media of a kind one post may carry (None: not documented)."""
        return {
            "image": self.max_images,
            "gif": self.max_gifs,
            "video": self.max_videos,
            "document": self.max_documents,
        }.get(kind)


def post_limits(network: dict[str, Any]) -> PostLimits:
    post = network.get("post") if isinstance(network.get("post"), dict) else {}
    assert isinstance(post, dict)
    forms = [post, *(value for value in post.values() if isinstance(value, dict))]
    counts = {name: _largest(forms, keys) for name, keys in _COUNT_KEYS.items()}
    mixing = any(form.get("allow_mixing_image_video") is True for form in forms)
    return PostLimits(
        max_items=counts["items"],
        max_images=counts["images"],
        max_videos=counts["videos"],
        max_gifs=counts["gifs"],
        max_documents=counts["documents"],
        allow_mixing=mixing,
    )


def _largest(forms: list[dict[str, Any]], keys: tuple[str, ...]) -> int | None:
    found = [
        form[key]
        for form in forms
        for key in keys
        if isinstance(form.get(key), int) and not isinstance(form.get(key), bool)
    ]
    return max(found) if found else None
