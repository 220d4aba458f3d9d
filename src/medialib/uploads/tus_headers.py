"""Reading the tus 1.0 protocol's request headers: the version, integers, `Upload-Checksum`
and `Upload-Metadata` (and what upload the metadata asks for). Every malformed header is
the usual JSON error, never a 500."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from fastapi import Request
from pydantic import ValidationError

from medialib.errors import MalformedBody, TusVersionUnsupported, ValidationFailed
from medialib.media.schemas import UploadRequest

TUS_VERSION = "1.0.0"
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
CHECKSUM_ALGORITHMS = ("sha1", "sha256", "md5")
_METADATA_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_METADATA_MAX_CHARS = 16 * 1024


def require_version(request: Request) -> None:
    if request.headers.get("tus-resumable") != TUS_VERSION:
        raise TusVersionUnsupported(supported=TUS_VERSION)


def refuse_unsupported_extensions(request: Request) -> None:
    """Extensions this server does not offer (not in `Tus-Extension`) are refused before
    anything is made, rather than half-honoured: a client that sends them anyway (as
    tus-js-client's `parallelUploads` does with concatenation) learns at once."""
    if "upload-concat" in request.headers:
        raise ValidationFailed(
            "Concatenation (Upload-Concat) is not supported: send the file as one upload.",
            field="Upload-Concat",
            extension="concatenation",
        )
    if "upload-defer-length" in request.headers:
        raise ValidationFailed(
            "Upload-Defer-Length is not supported; send Upload-Length.",
            field="Upload-Defer-Length",
            extension="creation-defer-length",
        )


def header_int(request: Request, name: str) -> int:
    value = request.headers.get(name, "")
    if not value.isascii() or not value.isdigit() or len(value) > 19:
        raise MalformedBody(f"{name} must be a non-negative integer.", field=name)
    return int(value)


def parse_checksum(header: str | None) -> tuple[str, bytes] | None:
    """`Upload-Checksum: <algorithm> <base64 digest>`."""
    if header is None:
        return None
    algorithm, _, encoded = header.strip().partition(" ")
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise MalformedBody(
            "Upload-Checksum algorithm is not supported.",
            field="Upload-Checksum",
            supported=list(CHECKSUM_ALGORITHMS),
        )
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error as exc:
        raise MalformedBody("Upload-Checksum is not base64.", field="Upload-Checksum") from exc
    if len(digest) != hashlib.new(algorithm).digest_size:
        raise MalformedBody("Upload-Checksum has the wrong length.", field="Upload-Checksum")
    return algorithm, digest


def parse_metadata(header: str | None) -> dict[str, str]:
    """`Upload-Metadata`: comma-separated `key base64(value)` pairs (a value may be absent)."""
    if not header:
        return {}
    if len(header) > _METADATA_MAX_CHARS:
        raise ValidationFailed("Upload-Metadata is too long.", field="Upload-Metadata")
    pairs: dict[str, str] = {}
    for item in header.split(","):
        key, _, encoded = item.strip().partition(" ")
        if not _METADATA_KEY.fullmatch(key) or key in pairs:
            raise ValidationFailed(
                "Upload-Metadata keys must be unique, plain ASCII words.", field="Upload-Metadata"
            )
        try:
            pairs[key] = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise ValidationFailed(
                f"Upload-Metadata value of {key!r} is not base64 of UTF-8 text.",
                field="Upload-Metadata",
            ) from exc
    return pairs


def request_from_metadata(metadata: dict[str, str], *, length: int) -> UploadRequest:
    """The upload request a tus creation amounts to. Understands the names tus clients
    (Uppy, tus-js-client) send: `filename`/`name`, `filetype`/`type`/`content_type`."""
    filename = metadata.get("filename") or metadata.get("name")
    if not filename:
        raise ValidationFailed("Upload-Metadata needs a `filename`.", field="filename")
    content_type = (
        metadata.get("content_type") or metadata.get("filetype") or metadata.get("type") or None
    )
    tags = metadata.get("tags")
    try:
        return UploadRequest(
            filename=filename,
            content_type=content_type,
            kind=metadata.get("kind") or None,
            size=length,
            tenant_id=metadata.get("tenant_id") or None,
            tags=[tag for tag in tags.split(",") if tag.strip()] if tags else None,
            description=metadata.get("description") or None,
            mode="resumable",
        )
    except ValidationError as exc:
        problems = [{"loc": [str(p) for p in e["loc"]], "msg": e["msg"]} for e in exc.errors()]
        raise ValidationFailed(errors=problems) from exc
