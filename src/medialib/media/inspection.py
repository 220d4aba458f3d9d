"""The checks confirm makes on stored bytes: what they are, and whether they may be kept.

Pure decisions over the object store's answers and processing/; no database here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from medialib.errors import (
    ContentTypeMismatch,
    PayloadTooLarge,
    UnsupportedMediaType,
    too_big_message,
)
from medialib.media.models import IMAGE_KINDS
from medialib.processing import images, sniff
from medialib.processing.sniff import SNIFF_BYTES
from medialib.storage.base import ObjectBytes, ObjectInfo


@dataclass(slots=True)
class IntakeResult:
    size: int
    sha256: str
    content_type: str
    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None  # an animation's one play
    metadata: dict[str, Any] = field(default_factory=dict)


def inspect(
    store: ObjectBytes,
    *,
    key: str,
    info: ObjectInfo,
    kind: str,
    declared_content_type: str,
    filename: str,
    cap: int,
    max_pixels: int,
) -> IntakeResult:
    """Check the stored object against its kind; raise the error that refuses it."""
    if info.size > cap:
        raise PayloadTooLarge(
            too_big_message(kind, cap, info.size),
            max_bytes=cap,
            size=info.size,
        )
    detected = _detect(store, key)
    detected_kind = sniff.kind_of(detected) if detected else None
    if detected is None or detected_kind is None:
        raise UnsupportedMediaType(
            "The file's bytes are not a supported image, GIF, video, audio or document format."
        )
    _check_declarations(kind, detected, detected_kind, declared_content_type, filename)
    result = IntakeResult(
        size=info.size, sha256=info.sha256 or _hash(store, key), content_type=detected
    )
    if kind in IMAGE_KINDS:
        with store.local_copy(key) as path:
            header = images.read_header(path, max_pixels=max_pixels)
        result.width, result.height = header.width, header.height
        result.duration_ms = header.duration_ms
        result.metadata = header.metadata()
        if detected == "image/apng":  # libvips reads its first frame: say what it holds
            head = store.read_head(key, sniff.SNIFF_BYTES)
            result.metadata |= {"format": "apng", "animated": True, "frames": 1,
                                "apng_frames": sniff.apng_frames(head)}  # fmt: skip
    return result


def _detect(store: ObjectBytes, key: str) -> str | None:
    head = store.read_head(key, SNIFF_BYTES)
    if head.startswith(b"PK\x03\x04"):  # zip-based documents are told apart by their parts
        with store.local_copy(key) as path, path.open("rb") as handle:
            return sniff.sniff(head, open_file=handle)
    return sniff.sniff(head)


def _check_declarations(
    kind: str, detected: str, detected_kind: str, declared: str, filename: str
) -> None:
    if detected_kind != kind:
        raise ContentTypeMismatch(
            f"The file is {detected}, which is not a {kind}.",
            declared=declared,
            detected=detected,
        )
    if not sniff.types_agree(declared, detected):
        raise ContentTypeMismatch(
            f"The file was declared as {declared} but its bytes are {detected}.",
            declared=declared,
            detected=detected,
        )
    by_extension = sniff.mime_from_filename(filename)
    if by_extension and not sniff.types_agree(by_extension, detected):
        raise ContentTypeMismatch(
            f"The file name says {by_extension} but its bytes are {detected}.",
            declared=by_extension,
            detected=detected,
        )


def _hash(store: ObjectBytes, key: str) -> str:
    digest = hashlib.sha256()
    for chunk in store.iter_bytes(key):
        digest.update(chunk)
    return digest.hexdigest()
