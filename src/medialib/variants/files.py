"""Making a media's per-network variant files (specs from platforms/variants.py): one file
per distinct need, the most permissive first, so a file already made serves every
network it satisfies; two files are never the same bytes. A file the bytes cannot give
(a refusal, not a fault of the machine) is left out and the others are kept: those
networks stay without a variant, and a post's plan says so. Called by job handlers,
outside any transaction; nothing is left behind on failure.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medialib.config import Settings
from medialib.errors import MedialibError
from medialib.media.derivatives import Original, put_derived
from medialib.media.records import Framing, Variant
from medialib.platforms.variants import Aspect, ImageSpec, Spec, VideoSpec
from medialib.processing import animation, byte_cap, image_variants, remux, transcode
from medialib.processing import framing as fitting
from medialib.processing.images import DerivedImage
from medialib.processing.remux import MadeVideo
from medialib.processing.transcode import VideoTarget
from medialib.storage.base import ObjectBytes

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Source:
    """What the variants are made from: the usable file and what it looks like."""

    original: Original
    width: int
    height: int
    framing: Framing | None = None
    preview_key: str | None = None  # a video's cover frame: where to look for its subject
    rules_version: str | None = None


@dataclass(slots=True)
class _Made:
    file: DerivedImage
    video: MadeVideo | None = None
    crop: fitting.Box | None = None
    padded_to: float | None = None


def make_variant_files(
    store: ObjectBytes, settings: Settings, source: Source, specs: dict[Spec, list[str]]
) -> list[Variant]:
    """One stored file per spec (or per group of specs one file serves)."""
    made: list[Variant] = []
    with tempfile.TemporaryDirectory(prefix="medialib-") as work:
        try:
            with store.local_copy(source.original.storage_key) as path:
                maker = _Maker(store, settings, source, path, Path(work))
                ordered = sorted(specs.items(), key=_permissiveness, reverse=True)
                for number, (spec, platforms) in enumerate(ordered):
                    at = next((i for i, v in enumerate(made) if _serves(v, spec)), None)
                    if at is None and maker.encoded and _encodes(spec):
                        # The first file is made alone: what it serves is not made again.
                        # Every encode still needed after it, from one decode.
                        maker.encode_together(
                            [
                                (later, s)
                                for later, (s, _) in enumerate(ordered)
                                if later >= number
                                and _encodes(s)
                                and not any(_serves(v, s) for v in made)
                            ]
                        )
                    if at is None:
                        try:
                            variant = maker.make(spec, platforms, number)
                        except MedialibError as refusal:  # again would fail the same way
                            log.warning(
                                "no variant for %s of %s: %s %s",
                                ",".join(platforms),
                                source.original.media_id,
                                refusal,
                                refusal.details,
                            )
                            continue
                        at = next((i for i, v in enumerate(made) if _same(v, variant)), None)
                        if at is None:
                            made.append(variant)
                            continue
                        store.delete(variant.key)  # the same bytes as one already made
                    more = (*made[at].platforms, *platforms)
                    made[at] = made[at].model_copy(update={"platforms": more})
        except BaseException:
            for variant in made:
                store.delete(variant.key)
            raise
    return made


class _Maker:
    def __init__(
        self, store: ObjectBytes, settings: Settings, source: Source, path: Path, work: Path
    ) -> None:
        self.store, self.settings, self.source = store, settings, source
        self.path, self.work = path, work
        self._centre: tuple[float, float] | None = None
        self._curve = byte_cap.SizeCurve()  # each still variant's encodes aim the next ones
        self._decoded: image_variants.Decoded | None = None  # one decode for every still
        self.encoded = 0  # video files encoded so far
        self._together: dict[int, MadeVideo] = {}  # made ahead, by spec number
        self._tried_together = False

    def make(self, spec: Spec, platforms: list[str], number: int) -> Variant:
        folder = self._folder(number)
        made = (
            self._video(spec, folder, number)
            if isinstance(spec, VideoSpec)
            else self._image(spec, folder)
        )
        derived = made.file
        key, stored = put_derived(self.store, self.source.original, derived, "variant")
        video = made.video
        return Variant(
            key=key,
            platforms=tuple(platforms),
            content_type=derived.content_type,
            width=derived.width,
            height=derived.height,
            size=stored.size,
            checksum_sha256=stored.sha256 or _sha256(derived.path),
            fps=video.fps if video else None,
            codec=video.codec if video else None,
            duration_ms=video.duration_ms if video else None,
            bitrate=video.video_bitrate if video else None,
            method=video.method if video else "image",
            crop=_box_dict(made.crop),
            padded_to=made.padded_to,
            spec=spec.as_dict(),
            rules_version=self.source.rules_version,
        )

    def _image(self, spec: ImageSpec, folder: Path) -> _Made:
        width, height = self.source.width, self.source.height
        if spec.format == "gif":
            file = animation.render_animation(
                self.path,
                folder,
                max_width=spec.max_width,
                max_height=spec.max_height,
                max_pixels=spec.max_pixels,
                max_bytes=spec.max_bytes,
                max_frames=spec.max_frames,
                max_pixels_times_frames=spec.max_pixels_times_frames,
                width=width,
                height=height,
            )
            return _Made(file)
        crop, pad = self._fit(spec.aspect)
        if self._decoded is None:
            self._decoded = image_variants.Decoded(self.path, width, height)
        file = image_variants.render_variant(
            self._decoded,
            folder,
            width=width,
            height=height,
            fmt=spec.format,
            max_width=spec.max_width,
            max_height=spec.max_height,
            max_pixels=spec.max_pixels,
            max_width_plus_height=spec.max_width_plus_height,
            max_bytes=spec.max_bytes,
            framing=image_variants.Framing(
                crop=crop,
                pad_ratio=pad,
                upscale_to_width=spec.upscale_to_width,
                min_aspect=spec.aspect.low if spec.aspect else None,
                max_aspect=spec.aspect.high if spec.aspect else None,
            ),
            curve=self._curve,
        )
        return _Made(file, crop=crop, padded_to=pad)

    def _folder(self, number: int) -> Path:
        folder = self.work / str(number)
        folder.mkdir(exist_ok=True)
        return folder

    def encode_together(self, numbered: list[tuple[int, Spec]]) -> None:
        """Make these encodes now from one decode of the source (once per job; two or
        more, each within what its caps allow). If that fails, each is made on its own
        when its turn comes, and fails or not alone."""
        if self._tried_together or self.source.original.kind != "video":
            return  # an animation's frames depend on each file's plays: one at a time
        self._tried_together = True
        duration = self.source.original.duration_ms
        chosen: list[tuple[int, transcode.Encoding]] = []
        for number, spec in numbered:
            assert isinstance(spec, VideoSpec)
            target = self._target(spec)[0]
            try:
                transcode.video_bits_for(target, duration)
            except MedialibError:
                continue  # refused on its own turn, with its reason
            out = self._folder(number) / "variant.mp4"
            chosen.append((number, transcode.Encoding(out, target)))
        if len(chosen) < 2:
            return
        try:
            made = transcode.encode_mp4_together(
                self.path,
                self.source.original.content_type,
                [encoding for _, encoding in chosen],
                duration_ms=duration,
                timeout_seconds=self.settings.job_time_limit_seconds,
            )
        except MedialibError as failure:
            log.warning("encoding %d files together failed (%s): one by one", len(chosen), failure)
            return
        self._together = {number: video for (number, _), video in zip(chosen, made, strict=True)}

    def _video(self, spec: VideoSpec, folder: Path, number: int) -> _Made:
        out = folder / "variant.mp4"
        original = self.source.original
        timeout = self.settings.job_time_limit_seconds
        if spec.method == "remux":
            video = remux.remux_mp4(self.path, original.content_type, out, timeout_seconds=timeout)
            return _Made(DerivedImage(out, video.width, video.height, "video/mp4"), video)
        target, crop, pad = self._target(spec)
        video = self._together.get(number) or transcode.encode_mp4(
            self.path,
            original.content_type,
            out,
            target,
            duration_ms=original.duration_ms,
            timeout_seconds=timeout,
        )
        self.encoded += 1
        return _Made(DerivedImage(out, video.width, video.height, "video/mp4"), video, crop, pad)

    def _target(self, spec: VideoSpec) -> tuple[VideoTarget, fitting.Box | None, float | None]:
        """What an encode for `spec` must make, and the crop or padding it takes."""
        crop, pad = self._fit(spec.aspect)
        max_w, max_h = spec.max_width, spec.max_height
        if spec.max_pixels:
            box = image_variants.variant_box(
                self.source.width, self.source.height, None, None, spec.max_pixels
            )
            max_w, max_h = min(max_w or box[0], box[0]), min(max_h or box[1], box[1])
        target = VideoTarget(
            max_width=max_w,
            max_height=max_h,
            min_fps=spec.min_fps,
            max_fps=spec.max_fps,
            max_bytes=spec.max_bytes,
            max_video_bitrate=spec.max_video_bitrate,
            crop=crop,
            pad_ratio=pad,
            audio=spec.audio,
            plays=spec.plays,
        )
        return target, crop, pad

    def _fit(self, aspect: Aspect | None) -> tuple[fitting.Box | None, float | None]:
        """The crop box (or the ratio to pad to) that brings the picture into range."""
        width, height = self.source.width, self.source.height
        ratio = aspect.target(width, height) if aspect is not None else None
        if aspect is None or ratio is None:
            return None, None
        if aspect.fit == "pad":
            return None, ratio
        return fitting.crop_box(width, height, ratio, self._focal_point()), None

    def _focal_point(self) -> tuple[float, float]:
        """The user's focal point, else where libvips' attention looks (in the image, or
        in a video's cover frame), else the centre."""
        framing = self.source.framing
        if framing is not None and framing.focal_x is not None and framing.focal_y is not None:
            return framing.focal_x, framing.focal_y
        if self._centre is None:
            self._centre = self._attention()
        return self._centre

    def _attention(self) -> tuple[float, float]:
        try:
            if self.source.original.kind == "video":
                if self.source.preview_key is None:
                    return 0.5, 0.5
                with self.store.local_copy(self.source.preview_key) as preview:
                    return fitting.attention_centre(preview)
            return fitting.attention_centre(self.path)
        except Exception:  # a picture libvips cannot look at: its centre will do
            return 0.5, 0.5


def _encodes(spec: Spec) -> bool:
    return isinstance(spec, VideoSpec) and spec.method != "remux"


def _permissiveness(item: tuple[Spec, list[str]]) -> tuple[float, ...]:
    spec = item[0]
    unbounded = float("inf")
    limits: tuple[Any, ...] = (spec.max_bytes, spec.max_pixels, spec.max_width, spec.max_height)
    return tuple(unbounded if limit is None else float(limit) for limit in limits)


def _serves(made: Variant, spec: Spec) -> bool:
    """Whether a file made for another spec serves this one as well as its own would:
    the same kind of file, fitted the same way, within every bound of this spec, and not
    made smaller than this spec needs."""
    made_for = made.spec
    if made_for.get("format") != spec.format or made_for.get("aspect") != _aspect_dict(spec):
        return False
    within = (
        (spec.max_bytes is None or made.size <= spec.max_bytes)
        and (spec.max_width is None or made.width <= spec.max_width)
        and (spec.max_height is None or made.height <= spec.max_height)
        and (spec.max_pixels is None or made.width * made.height <= spec.max_pixels)
    )
    bounds = ("max_width", "max_height", "max_pixels")
    same_box = all(made_for.get(b) == getattr(spec, b) for b in bounds) or all(
        made_for.get(b) is None for b in bounds
    )
    if isinstance(spec, VideoSpec):
        fps = made.fps or 0
        # A remux is the same streams whatever box its spec names: one serves every spec
        # whose bounds its file is within, so the streams are copied once, not per spec.
        return (
            within
            and (same_box or spec.method == "remux")
            and made_for.get("method") == spec.method
            and (spec.max_fps is None or fps <= spec.max_fps + 0.01)
            and (spec.min_fps is None or fps >= spec.min_fps - 0.01)
            and (spec.max_video_bitrate is None or (made.bitrate or 0) <= spec.max_video_bitrate)
            and made_for.get("audio") == spec.audio
            and made_for.get("plays", 1) == spec.plays  # a loop made longer is another file
        )
    return (
        within
        and same_box
        and made_for.get("max_width_plus_height") in (None, spec.max_width_plus_height)
        and made_for.get("upscale_to_width") == spec.upscale_to_width
        and made_for.get("max_frames") == spec.max_frames
        and made_for.get("max_pixels_times_frames") == spec.max_pixels_times_frames
    )


def _same(made: Variant, new: Variant) -> bool:
    return made.checksum_sha256 is not None and made.checksum_sha256 == new.checksum_sha256


def _aspect_dict(spec: Spec) -> Any:
    aspect = spec.aspect
    return None if aspect is None else {"low": aspect.low, "high": aspect.high, "fit": aspect.fit}


def _box_dict(box: fitting.Box | None) -> dict[str, int] | None:
    if box is None:
        return None
    return {"left": box.left, "top": box.top, "width": box.width, "height": box.height}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
