"""Rich-text facets of a Bluesky post: links, mentions and hashtags, each located by UTF-8
byte offsets into the text (the lexicon's `byteStart`/`byteEnd`), as the app makes them.
Pure: mentions are resolved to DIDs by a function the caller passes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import regex

from medialib.platforms.wording import graphemes

_URL = regex.compile(r"(?<![\w@])https?://[^\s<>\"']+", regex.IGNORECASE)
_MENTION = regex.compile(
    r"(?<![\w@])@((?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?\.)+[a-zA-Z]{2,})"
)
_TAG = regex.compile(r"(?<![\w#&])#([^\s#\p{P}\d][^\s#]*|\d+[^\s#\d\p{P}][^\s#]*)")
_TRAILING = ".,;:!?)]}'\""
MAX_TAG_GRAPHEMES = 64


def facets(text: str, resolve: Callable[[str], str | None]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        found.append(_facet(text, match.start(), match.start() + len(url), "link", uri=url))
    for match in _MENTION.finditer(text):
        did = resolve(match.group(1).lower())
        if did is not None:
            found.append(_facet(text, match.start(), match.end(), "mention", did=did))
    for match in _TAG.finditer(text):
        tag = match.group(1).rstrip(_TRAILING)
        if tag and graphemes(tag) <= MAX_TAG_GRAPHEMES:
            end = match.start() + 1 + len(tag)
            found.append(_facet(text, match.start(), end, "tag", tag=tag))
    return sorted(found, key=lambda facet: facet["index"]["byteStart"])


def _facet(text: str, start: int, end: int, kind: str, **feature: str) -> dict[str, Any]:
    return {
        "index": {
            "byteStart": len(text[:start].encode()),
            "byteEnd": len(text[:end].encode()),
        },
        "features": [{"$type": f"app.bsky.richtext.facet#{kind}", **feature}],
    }
