"""What a verdict is made of: the facts of a media as the rules read them, a reason per
rule it breaks, and a network's verdict. Pure data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Colour = Literal["green", "amber", "red"]
Fix = Literal["convert", "remux", "crop", "pad", "scaled_by_network", "none"]

FORMAT_OF_TYPE = {
    "image/jpeg": "jpeg",
    "image/png": "png",
    "image/apng": "apng",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/heic": "heic",
    "image/heif": "heif",
    "image/avif": "avif",
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/aac": "aac",
    "audio/wav": "wav",
    "audio/ogg": "ogg",
    "audio/flac": "flac",
    "audio/webm": "webm",
}


# Between forms as good as each other: as itself, then still moving, then as a still.
@dataclass(frozen=True, slots=True)
class Facts:
    """What medialib knows of a media, as the rules need it. `kind` is what it is to a
    network: a static GIF is an image, an animated WebP an animation ("gif")."""

    kind: str
    format: str | None = None  # jpeg, png, gif, webp, pdf, mp3 ...
    size: int | None = None
    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None
    container: str | None = None
    codec: str | None = None
    fps: float | None = None
    frames: int | None = None
    pages: int | None = None
    pix_fmt: str | None = None
    interlaced: bool | None = None
    sample_aspect: str | None = None  # anamorphic video's pixel shape ("4:3"); None: square
    rendition_of: str | None = None  # the facts are of a JPEG copy of this format (heic)
    moov_first: bool | None = None
    edit_lists: bool | None = None
    video_bitrate: int | None = None
    rotation: int = 0
    has_audio: bool = False
    audio_codec: str | None = None
    audio_profile: str | None = None
    audio_channels: int | None = None
    audio_sample_rate: int | None = None
    audio_bitrate: int | None = None
    colour_space: str | None = None  # libvips' interpretation: srgb, cmyk, b-w ...
    fit: Literal["crop", "pad"] = "crop"  # how the media asks to be fitted to an aspect


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    message: str
    fix: Fix
    form: str | None = None
    limit: Any = None
    actual: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "limit": self.limit,
            "actual": self.actual,
            "fix": self.fix,
            "form": self.form,
        }


@dataclass(slots=True)
class Verdict:
    platform: str
    verdict: Colour = "green"
    form: str | None = None  # the post form judged best for this media
    reasons: list[Reason] = field(default_factory=list)
    send_as: str | None = None  # how it goes out when not as itself (video, still, gif)

    @property
    def fixes(self) -> set[Fix]:
        return {reason.fix for reason in self.reasons}
