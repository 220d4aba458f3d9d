"""Making an asset's derived files: previews, the HEIC rendition, probe facts (the
per-network variants are in `variant_files.py`).

Called by job handlers (tasks.py) outside any transaction: it reads the original from
the store, works on local files through processing/, and stores each derived file under
a fresh key beside the original (immutable URLs: a new preview gets a new key).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medialib.config import Settings
from medialib.errors import InvalidState, MediaProcessingFailed
from medialib.ids import new_token
from medialib.media.models import IMAGE_KINDS, Media, MediaKind
from medialib.media.records import DerivedFile, PreviewSource
from medialib.processing import avprobe, documents, frames, images
from medialib.processing.images import THUMBNAIL_MAX_SIDE, DerivedImage
from medialib.storage.base import ObjectBytes, ObjectInfo, put_file

HEIF_TYPES = ("image/heic", "image/heif")
PDF = "application/pdf"
_OFFICE_LABELS = {"wordprocessingml": "DOCX", "presentationml": "PPTX"}
DEFAULT_COVER_MS = 1000


@dataclass(frozen=True, slots=True)
class Original:
    """What a job needs to know of the asset it works on (read in a short transaction)."""

    media_id: str
    kind: str
    storage_key: str
    content_type: str
    duration_ms: int | None = None

    @classmethod
    def of(cls, media: Media) -> Original:
        """The uploaded bytes."""
        return cls(
            media.id, media.kind, media.storage_key, media.content_type or "", media.duration_ms
        )

    @classmethod
    def usable(cls, media: Media) -> Original:
        """The bytes a decoder here can read: a HEIC's JPEG rendition, else the original."""
        usable = media.usable_file
        return cls(media.id, media.kind, usable.key, usable.content_type, media.duration_ms)


@dataclass(slots=True)
class Derivatives:
    facts: dict[str, Any] = field(default_factory=dict)
    thumbnail: DerivedFile | None = None
    display: DerivedFile | None = None

    def stored_keys(self) -> list[str]:
        return [item.key for item in (self.thumbnail, self.display) if item is not None]


def derived_key(storage_key: str, name: str, extension: str) -> str:
    folder = storage_key.rsplit("/", 1)[0]
    return f"{folder}/{name}-{new_token(6)}.{extension}"


def sibling_key(existing_key: str, storage_key: str) -> str:
    """A fresh key for another asset's copy of a derived file (same name and extension)."""
    file_name = existing_key.rsplit("/", 1)[1]
    return derived_key(storage_key, file_name.split("-", 1)[0], file_name.rsplit(".", 1)[1])


def put_derived(
    store: ObjectBytes, original: Original, image: DerivedImage, name: str
) -> tuple[str, ObjectInfo]:
    """Store a made file beside the original; its new key, and what the store knows."""
    extension = {"image/webp": "webp", "image/png": "png", "video/mp4": "mp4"}.get(
        image.content_type, "jpg"
    )
    key = derived_key(original.storage_key, name, extension)
    return key, put_file(store, key, image.path, content_type=image.content_type)


def _store(
    store: ObjectBytes,
    original: Original,
    image: DerivedImage,
    name: str,
    *,
    source: PreviewSource = "generated",
    frame_time_ms: int | None = None,
) -> DerivedFile:
    return DerivedFile(
        key=put_derived(store, original, image, name)[0],
        width=image.width,
        height=image.height,
        content_type=image.content_type,
        size=image.path.stat().st_size,
        source=source,
        frame_time_ms=frame_time_ms,
    )


def process(store: ObjectBytes, settings: Settings, original: Original) -> Derivatives:
    """Everything an asset of this kind gets after confirm."""
    with (
        tempfile.TemporaryDirectory(prefix="medialib-") as work,
        store.local_copy(original.storage_key) as path,
    ):
        folder = Path(work)
        if original.kind in IMAGE_KINDS:
            return _image(store, settings, original, path, folder)
        if original.kind in (MediaKind.VIDEO, MediaKind.AUDIO):
            return _audio_video(store, settings, original, path, folder)
        return _document(store, settings, original, path, folder)


def _image(
    store: ObjectBytes, settings: Settings, original: Original, path: Path, folder: Path
) -> Derivatives:
    result = Derivatives()
    source = path
    if original.content_type in HEIF_TYPES:
        rendition = images.heif_to_jpeg(path, folder, max_pixels=settings.image_max_pixels)
        result.display = _store(store, original, rendition, "display")
        result.facts = {"width": rendition.width, "height": rendition.height}
        source = rendition.path
    thumbnail = images.make_thumbnail(source, folder)
    result.thumbnail = _store(store, original, thumbnail, "thumbnail")
    return result


def _audio_video(
    store: ObjectBytes, settings: Settings, original: Original, path: Path, folder: Path
) -> Derivatives:
    facts = avprobe.probe(
        path, original.content_type, timeout_seconds=settings.probe_timeout_seconds
    )
    has_video = facts.pop("has_video", False)
    if original.kind == MediaKind.VIDEO and not has_video:
        raise MediaProcessingFailed("The file has no video stream.")
    if original.kind == MediaKind.AUDIO:
        if not facts.get("has_audio"):
            raise MediaProcessingFailed("The file has no audio stream.")
        kept = {name: value for name, value in facts.items() if not name.startswith("has_")}
        return Derivatives(facts=kept)
    at_ms = default_cover_ms(facts.get("duration_ms"))
    thumbnail = _frame(store, settings, original, path, folder, at_ms=at_ms)
    return Derivatives(facts=facts, thumbnail=thumbnail)


def default_cover_ms(duration_ms: int | None) -> int:
    """One second in, or the middle of a clip shorter than two seconds."""
    if not duration_ms:
        return 0
    return min(DEFAULT_COVER_MS, duration_ms // 2)


def _frame(
    store: ObjectBytes,
    settings: Settings,
    original: Original,
    path: Path,
    folder: Path,
    *,
    at_ms: int,
) -> DerivedFile:
    out = folder / f"frame-{at_ms}.jpg"
    grabbed = frames.extract_frame(
        path,
        original.content_type,
        at_ms=at_ms,
        out_path=out,
        max_side=THUMBNAIL_MAX_SIDE,
        timeout_seconds=settings.probe_timeout_seconds,
    )
    image = DerivedImage(out, int(grabbed["width"]), int(grabbed["height"]), "image/jpeg")
    return _store(store, original, image, "cover", frame_time_ms=int(grabbed["frame_time_ms"]))


def _document(
    store: ObjectBytes, settings: Settings, original: Original, path: Path, folder: Path
) -> Derivatives:
    if original.content_type == PDF:
        out = folder / "page-1.jpg"
        preview = documents.pdf_preview(
            path,
            out_path=out,
            max_side=THUMBNAIL_MAX_SIDE,
            timeout_seconds=settings.probe_timeout_seconds,
        )
        image = DerivedImage(out, int(preview["width"]), int(preview["height"]), "image/jpeg")
        thumbnail = _store(store, original, image, "thumbnail")
        return Derivatives(facts={"pages": int(preview["pages"])}, thumbnail=thumbnail)
    label = next((v for k, v in _OFFICE_LABELS.items() if k in original.content_type), "DOC")
    tile = images.document_tile(label, folder)
    return Derivatives(thumbnail=_store(store, original, tile, "thumbnail"))


def custom_thumbnail(
    store: ObjectBytes,
    settings: Settings,
    original: Original,
    request: dict[str, Any],
    source_image: Original | None,
) -> DerivedFile:
    """The preview POST /thumbnail asked for: a frame, another image, or the default."""
    with tempfile.TemporaryDirectory(prefix="medialib-") as work:
        folder = Path(work)
        if source_image is not None:  # given exactly when the request names a source
            if source_image.kind not in IMAGE_KINDS:
                raise InvalidState("The thumbnail source must be an image.")
            with store.local_copy(source_image.storage_key) as source_path:
                thumbnail = images.make_thumbnail(source_path, folder)
            return _store(store, original, thumbnail, "thumbnail", source="custom")
        if "frame_time_ms" in request:
            with store.local_copy(original.storage_key) as path:
                at_ms = int(request["frame_time_ms"])
                return _frame(store, settings, original, path, folder, at_ms=at_ms)
    regenerated = process(store, settings, original)
    for key in regenerated.stored_keys():
        if regenerated.thumbnail is None or key != regenerated.thumbnail.key:
            store.delete(key)
    if regenerated.thumbnail is None:
        raise MediaProcessingFailed("This kind of media has no preview.")
    return regenerated.thumbnail
