"""Type from the bytes: magic numbers for exactly the formats medialib accepts.

Only allow-listed formats are recognised; anything else is `None` and is refused at
intake. Hand-written on purpose (see docs/decisions.md): libmagic knows thousands of
formats we must refuse and names ISO-BMFF brands inconsistently across versions.
"""

from __future__ import annotations

import io
import mimetypes
import struct
import zipfile
from typing import BinaryIO

SNIFF_BYTES = 4096

# MIME types each media kind accepts, by what the bytes say.
KIND_TYPES: dict[str, frozenset[str]] = {
    "image": frozenset(
        {
            "image/jpeg",
            "image/png",
            "image/apng",  # an image here: its first frame (no network takes APNG motion)
            "image/webp",
            "image/heic",
            "image/heif",
            "image/avif",
        }
    ),
    "gif": frozenset({"image/gif"}),
    "video": frozenset(
        {"video/mp4", "video/quicktime", "video/webm", "video/x-matroska", "video/x-msvideo"}
    ),
    "audio": frozenset(
        {
            "audio/mpeg",
            "audio/mp4",
            "audio/aac",
            "audio/wav",
            "audio/ogg",
            "audio/flac",
            "audio/webm",
        }
    ),
    "document": frozenset(
        {
            "application/pdf",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        }
    ),
}

# Byte-identical containers: the same bytes may honestly be declared as either type.
_SAME_CONTAINER: list[frozenset[str]] = [
    frozenset({"video/mp4", "video/quicktime", "audio/mp4", "video/x-m4v"}),
    frozenset({"video/webm", "audio/webm", "video/x-matroska"}),
    frozenset({"image/heic", "image/heif", "image/avif"}),
    frozenset({"image/png", "image/apng"}),  # an APNG is a PNG to anything that reads PNG
]

_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "audio/mp3": "audio/mpeg",
    "audio/x-m4a": "audio/mp4",
    "audio/m4a": "audio/mp4",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav",
    "audio/x-flac": "audio/flac",
    "audio/x-aac": "audio/aac",
    "video/avi": "video/x-msvideo",
    "video/msvideo": "video/x-msvideo",
    "image/heic-sequence": "image/heic",
    "image/heif-sequence": "image/heif",
}

_UNCHECKED_DECLARATIONS = {"", "application/octet-stream", "binary/octet-stream"}

_EXTRA_EXTENSIONS = {
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".avif": "image/avif",
    ".apng": "image/apng",
    ".webp": "image/webp",
    ".mkv": "video/x-matroska",
    ".webm": "video/webm",
    ".m4a": "audio/mp4",
    ".flac": "audio/flac",
    ".opus": "audio/ogg",
}

_FTYP_BRANDS = {
    b"qt  ": "video/quicktime",
    b"M4A ": "audio/mp4",
    b"M4B ": "audio/mp4",
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"heim": "image/heic",
    b"heis": "image/heic",
    b"hevc": "image/heic",
    b"mif1": "image/heif",
    b"msf1": "image/heif",
    b"avif": "image/avif",
    b"avis": "image/avif",
}

_OOXML_MAIN_PARTS = {
    "word/document.xml": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    ),
    "ppt/presentation.xml": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    ),
}


def normalise_mime(content_type: str | None) -> str:
    if not content_type:
        return ""
    base = content_type.split(";", 1)[0].strip().lower()
    return _ALIASES.get(base, base)


def mime_from_filename(filename: str) -> str | None:
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix in _EXTRA_EXTENSIONS:
        return _EXTRA_EXTENSIONS[suffix]
    guessed, _ = mimetypes.guess_type("x" + suffix, strict=False) if suffix else (None, None)
    return normalise_mime(guessed) or None


def kind_of(mime: str) -> str | None:
    for kind, types in KIND_TYPES.items():
        if mime in types:
            return kind
    return None


def types_agree(declared: str | None, detected: str) -> bool:
    """True when a declared type may honestly describe bytes detected as `detected`."""
    declared_mime = normalise_mime(declared)
    if declared_mime in _UNCHECKED_DECLARATIONS or declared_mime == detected:
        return True
    return any(declared_mime in group and detected in group for group in _SAME_CONTAINER)


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def apng_frames(head: bytes) -> int | None:
    """An APNG's frame count (its `acTL` chunk, which must come before the first `IDAT`);
    None for a plain PNG, or when the chunk is not within `head`."""
    at = len(_PNG_SIGNATURE)
    while at + 8 <= len(head):
        length = int.from_bytes(head[at : at + 4], "big")
        kind = head[at + 4 : at + 8]
        if kind == b"acTL" and at + 12 <= len(head):
            frames = int.from_bytes(head[at + 8 : at + 12], "big")
            return frames if frames > 1 else None
        if kind in (b"IDAT", b"IEND"):
            return None
        at += 12 + length
    return None


def sniff(head: bytes, *, open_file: BinaryIO | None = None) -> str | None:
    """The MIME type of an allow-listed format, from the first bytes; `None` otherwise.

    `open_file` (seekable) lets zip-based documents be told apart by their parts.
    """
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(_PNG_SIGNATURE):
        return "image/apng" if apng_frames(head) else "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and len(head) >= 12:
        return {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}.get(
            head[8:12]
        )
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return _sniff_iso_bmff(head)
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return _sniff_ebml(head)
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"fLaC"):
        return "audio/flac"
    if head.startswith(b"ID3") or _is_mpeg_audio_frame(head):
        return "audio/mpeg"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return "audio/aac"  # ADTS
    if head.startswith(b"PK\x03\x04") and open_file is not None:
        return _sniff_ooxml(open_file)
    return None


def _sniff_iso_bmff(head: bytes) -> str:
    major = head[8:12]
    if major in _FTYP_BRANDS:
        return _FTYP_BRANDS[major]
    box_size = int.from_bytes(head[0:4], "big")
    compatible = head[16 : min(box_size, len(head))]
    brands = {compatible[i : i + 4] for i in range(0, len(compatible) - 3, 4)}
    for brand in (b"heic", b"heix", b"avif", b"mif1"):
        if brand in brands:
            return _FTYP_BRANDS[brand]
    return "video/mp4"


def _sniff_ebml(head: bytes) -> str:
    # The EBML header's DocType element (0x4282) says "webm" or "matroska".
    doc_type_at = head.find(b"\x42\x82")
    if doc_type_at != -1 and b"webm" in head[doc_type_at : doc_type_at + 16]:
        return "video/webm"
    return "video/x-matroska"


def _is_mpeg_audio_frame(head: bytes) -> bool:
    # Frame sync (11 bits set), layer III, not a reserved version/bitrate/sample rate.
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 0x3, (head[1] >> 1) & 0x3
    bitrate, sample_rate = head[2] >> 4, (head[2] >> 2) & 0x3
    return version != 1 and layer == 1 and bitrate not in (0, 15) and sample_rate != 3


# An Office document lists a few hundred parts; a directory beyond these is an attack on
# the reader (zipfile would hold every entry of it in memory).
MAX_ZIP_ENTRIES = 10_000
MAX_ZIP_DIRECTORY_BYTES = 4 * 1024 * 1024
_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"


def zip_directory_size(open_file: BinaryIO) -> tuple[int, int] | None:
    """(entries, central directory bytes) from the end-of-central-directory record (or
    its Zip64 form), read from the file's tail only; None when there is none."""
    open_file.seek(0, io.SEEK_END)
    size = open_file.tell()
    tail_start = max(0, size - (22 + 65535))  # the record, then at most a 64 KiB comment
    open_file.seek(tail_start)
    tail = open_file.read()
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        return None
    entries, directory = struct.unpack("<HI", tail[at + 10 : at + 16])
    if entries == 0xFFFF or directory == 0xFFFFFFFF:
        locator = tail.rfind(_ZIP64_LOCATOR, 0, at)
        if locator < 0 or at - locator != 20:
            return None
        (record_at,) = struct.unpack("<Q", tail[locator + 8 : locator + 16])
        if not 0 <= record_at <= size - 56:
            return None
        open_file.seek(record_at)
        record = open_file.read(56)
        if record[:4] != _ZIP64_EOCD:
            return None
        entries, directory = struct.unpack("<QQ", record[32:48])
    return entries, directory


def _sniff_ooxml(open_file: BinaryIO) -> str | None:
    try:
        listed = zip_directory_size(open_file)
        if listed is None:
            return None
        entries, directory = listed
        if entries > MAX_ZIP_ENTRIES or directory > MAX_ZIP_DIRECTORY_BYTES:
            return None  # not a document we take: refused as an unsupported type
        open_file.seek(0)
        with zipfile.ZipFile(open_file) as archive:
            names = set(archive.namelist()[:MAX_ZIP_ENTRIES])
    except (zipfile.BadZipFile, OSError, ValueError, struct.error, io.UnsupportedOperation):
        return None
    if "[Content_Types].xml" not in names:
        return None
    for part, mime in _OOXML_MAIN_PARTS.items():
        if part in names:
            return mime
    return None
