from __future__ import annotations

import io
import struct
import time
import zipfile
from pathlib import Path

import pytest

from medialib.processing import sniff
from medialib.processing.filenames import clean_filename, content_disposition
from tests import mediafiles


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("photo.jpg", "image/jpeg"),
        ("rotated.jpg", "image/jpeg"),
        ("alpha.png", "image/png"),
        ("image.webp", "image/webp"),
        ("anim.gif", "image/gif"),
        ("clip.mp4", "video/mp4"),
        ("clip.mov", "video/quicktime"),
        ("clip.webm", "video/webm"),
        ("tone.m4a", "audio/mp4"),
        ("tone.wav", "audio/wav"),
        ("doc.pdf", "application/pdf"),
        ("page.html", None),
        ("playlist.m3u8", None),
    ],
)
def test_sniff_names_the_type_from_the_bytes(files: Path, name: str, expected: str | None) -> None:
    data = (files / name).read_bytes()
    assert sniff.sniff(data[: sniff.SNIFF_BYTES]) == expected


def test_an_apng_is_named_for_what_it_is(tmp_path: Path) -> None:
    """An APNG's `acTL` comes before its first IDAT: image/apng, with its frame count; a
    plain PNG, or an acTL after the pictures (not an APNG), stays image/png."""
    moving = mediafiles.apng(tmp_path / "moving.png", frames=12).read_bytes()
    assert sniff.sniff(moving[: sniff.SNIFF_BYTES]) == "image/apng"
    assert sniff.apng_frames(moving[: sniff.SNIFF_BYTES]) == 12
    still = mediafiles.png(tmp_path / "still.png").read_bytes()
    assert sniff.sniff(still[: sniff.SNIFF_BYTES]) == "image/png"
    iend = still.rindex(b"IEND") - 4
    actl = struct.pack(">I", 8) + b"acTL" + struct.pack(">II", 5, 0) + b"\0\0\0\0"
    late = still[:iend] + actl + still[iend:]
    assert sniff.sniff(late[: sniff.SNIFF_BYTES]) == "image/png"
    assert sniff.types_agree("image/png", "image/apng")  # a PNG to whatever reads PNG
    assert sniff.kind_of("image/apng") == "image"
    assert sniff.mime_from_filename("x.apng") == "image/apng"


def test_office_documents_are_told_apart_by_their_parts(files: Path) -> None:
    with (files / "letter.docx").open("rb") as handle:
        head = handle.read(sniff.SNIFF_BYTES)
        detected = sniff.sniff(head, open_file=handle)
    assert detected == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"", None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"PK\x03\x04 no file to inspect", None),
        (b"ID3\x04\x00", "audio/mpeg"),
        (b"\xff\xfb\x90\x64" + bytes(20), "audio/mpeg"),
        (b"fLaC\x00", "audio/flac"),
        (b"OggS\x00", "audio/ogg"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", "video/x-msvideo"),
        (b"RIFF\x00\x00\x00\x00XXXX", None),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "image/heic"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", "image/avif"),
        (b"\x1aE\xdf\xa3\x9fB\x86\x81\x01B\x82\x88matroska", "video/x-matroska"),
    ],
)
def test_sniff_magic_numbers(head: bytes, expected: str | None) -> None:
    assert sniff.sniff(head) == expected


@pytest.mark.parametrize(
    ("declared", "detected", "agree"),
    [
        ("image/jpeg", "image/jpeg", True),
        ("image/jpg", "image/jpeg", True),
        ("IMAGE/JPEG; charset=binary", "image/jpeg", True),
        ("application/octet-stream", "image/png", True),
        (None, "image/png", True),
        ("audio/mp4", "video/mp4", True),
        ("video/webm", "audio/webm", True),
        ("image/png", "image/jpeg", False),
        ("text/html", "image/jpeg", False),
        ("video/mp4", "image/jpeg", False),
    ],
)
def test_declared_types_agree_only_with_their_own_bytes(
    declared: str | None, detected: str, agree: bool
) -> None:
    assert sniff.types_agree(declared, detected) is agree


def test_kind_and_extension_lookup() -> None:
    assert sniff.kind_of("image/gif") == "gif"
    assert sniff.kind_of("text/html") is None
    assert sniff.mime_from_filename("a.HEIC") == "image/heic"
    assert sniff.mime_from_filename("noext") is None


def test_clean_filename_rules() -> None:
    assert clean_filename("") == "file"
    assert clean_filename("../..") == "file"
    assert clean_filename("dir/.hidden") == "hidden"
    assert clean_filename("a\u200bb\u202e.jpg") == "ab.jpg"
    long_name = clean_filename("x" * 300 + ".jpeg")
    assert len(long_name) == 255 and long_name.endswith(".jpeg")


def test_content_disposition_is_header_safe() -> None:
    header = content_disposition('evil"\r\nX-Injected: 1;.jpg', inline=False)
    assert header.startswith("attachment; filename=")
    assert "\r" not in header and "\n" not in header
    assert "filename*=UTF-8''evil%22X-Injected%3A%201%3B.jpg" in header
    assert content_disposition("фото.jpg", inline=True).startswith("inline;")


PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


def _pptx_with(parts: int) -> io.BytesIO:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("ppt/presentation.xml", "<presentation/>")
        for number in range(parts):
            archive.writestr(f"ppt/slides/slide{number}.xml", "")
    data.seek(0)
    return data


@pytest.mark.parametrize("parts", [sniff.MAX_ZIP_ENTRIES + 1, 70_000])  # 70,000: Zip64
def test_an_archive_with_an_absurd_directory_is_refused_without_listing_it(parts: int) -> None:
    archive = _pptx_with(parts)
    assert sniff.zip_directory_size(archive) == (parts + 2, pytest.approx(parts * 60, rel=0.5))
    started = time.monotonic()
    assert sniff.sniff(archive.getvalue()[:4096], open_file=archive) is None
    assert time.monotonic() - started < 0.05  # read from the tail: no directory was parsed


def test_a_directory_that_lies_about_its_size_is_refused() -> None:
    archive = _pptx_with(3)
    raw = bytearray(archive.getvalue())
    record = raw.rfind(b"PK\x05\x06")
    raw[record + 12 : record + 16] = struct.pack("<I", 1_200_000_000)  # a 1.2 GB directory
    assert sniff.sniff(bytes(raw[:4096]), open_file=io.BytesIO(raw)) is None
    assert sniff.sniff(archive.getvalue()[:4096], open_file=_pptx_with(3)) == PPTX


def test_a_document_with_an_ordinary_number_of_parts_is_recognised() -> None:
    assert sniff.sniff(b"PK\x03\x04", open_file=_pptx_with(300)) == PPTX
