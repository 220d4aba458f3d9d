"""Making the per-network variant files of an image or a video (specs from
platforms/variants.py): one file per distinct need, the most permissive first, so a file
already made serves every network it satisfies. Called by job handlers, outside any
transaction; nothing is left behind on failure.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from medialib.config import Settings
from medialib.media.derivatives import Original, put_derived
from medialib.media.records import Variant
from medialib.processing import images, transcode
from medialib.processing.images import DerivedImage
from medialib.processing.transcode import VideoTarget
from medialib.storage.base import ObjectStore


def make_variants(
    store: ObjectStore, source: Original, *, width: int, height: int, specs: dict[Any, list[str]]
) -> list[Variant]:
    """One stored image per variant spec (see platforms/variants.py), from `source` (the
    image's usable form), each listing the networks it is for."""

    def render(spec: Any, path: Path, work: Path) -> tuple[DerivedImage, float | None]:
        image = images.render_variant(
            path,
            work,
            width=width,
            height=height,
            fmt=spec.format,
            max_width=spec.max_width,
            max_height=spec.max_height,
            max_pixels=spec.max_pixels,
            max_bytes=spec.max_bytes,
        )
        return image, None

    def serves(made: Variant, spec: Any) -> bool:
        box = images.variant_box(width, height, spec.max_width, spec.max_height, spec.max_pixels)
        return _meets(made, spec, box)

    return _variant_files(store, source, specs, _permissiveness, serves, render)


def _variant_files(
    store: ObjectStore,
    source: Original,
    specs: dict[Any, list[str]],
    order: Callable[[tuple[Any, list[str]]], tuple[float, ...]],
    serves: Callable[[Variant, Any], bool],
    render: Callable[[Any, Path, Path], tuple[DerivedImage, float | None]],
) -> list[Variant]:
    """Render and store one file per spec, the most permissive first: a file already made
    serves a stricter network when `serves` says it does. Nothing is left on failure.
    `render` gives the file and, for a video, its frame rate."""
    made: list[Variant] = []
    with (
        tempfile.TemporaryDirectory(prefix="medialib-") as work,
        store.local_copy(source.storage_key) as path,
    ):
        try:
            ordered = sorted(specs.items(), key=order, reverse=True)
            for number, (spec, platforms) in enumerate(ordered):
                at = next((i for i, variant in enumerate(made) if serves(variant, spec)), None)
                if at is not None:
                    more = (*made[at].platforms, *platforms)
                    made[at] = made[at].model_copy(update={"platforms": more})
                    continue
                folder = Path(work) / str(number)
                folder.mkdir()
                derived, fps = render(spec, path, folder)
                variant = Variant(
                    key=put_derived(store, source, derived, "variant"),
                    platforms=tuple(platforms),
                    content_type=derived.content_type,
                    width=derived.width,
                    height=derived.height,
                    size=derived.path.stat().st_size,
                    fps=fps,
                    spec=spec.as_dict(),
                )
                made.append(variant)
        except BaseException:
            for variant in made:
                store.delete(variant.key)
            raise
    return made


def _permissiveness(item: tuple[Any, list[str]]) -> tuple[float, ...]:
    spec = item[0]
    unbounded = float("inf")
    return tuple(
        unbounded if limit is None else float(limit)
        for limit in (spec.max_bytes, spec.max_pixels, spec.max_width, spec.max_height)
    )


def _meets(made: Variant, spec: Any, box: tuple[int, int]) -> bool:
    """Whether an already made variant file serves another spec as well as its own would:
    within its limits, and not made smaller than that spec needs."""
    width, height, size = made.width, made.height, made.size
    full_size = width >= box[0] or height >= box[1]
    return (
        made.spec["format"] == spec.format
        and full_size
        and (spec.max_bytes is None or size <= spec.max_bytes)
        and (spec.max_width is None or width <= spec.max_width)
        and (spec.max_height is None or height <= spec.max_height)
        and (spec.max_pixels is None or width * height <= spec.max_pixels)
    )


def make_video_variants(
    store: ObjectStore,
    settings: Settings,
    source: Original,
    *,
    specs: dict[Any, list[str]],
) -> list[Variant]:
    """One MP4 per distinct need (see platforms/variants.py)."""

    def render(spec: Any, path: Path, work: Path) -> tuple[DerivedImage, float | None]:
        out = work / "variant.mp4"
        target = VideoTarget(
            max_width=spec.max_width,
            max_height=spec.max_height,
            max_fps=spec.max_fps,
            max_bytes=spec.max_bytes,
        )
        made = transcode.encode_mp4(
            path,
            source.content_type,
            out,
            target,
            duration_ms=source.duration_ms,
            timeout_seconds=settings.job_time_limit_seconds,
        )
        clip = DerivedImage(out, made.width, made.height, "video/mp4")
        return clip, made.fps

    return _variant_files(store, source, specs, _video_permissiveness, _video_meets, render)


def _video_permissiveness(item: tuple[Any, list[str]]) -> tuple[float, ...]:
    spec = item[0]
    return tuple(
        float("inf") if limit is None else float(limit)
        for limit in (spec.max_bytes, spec.max_fps, spec.max_width, spec.max_height)
    )


def _video_meets(made: Variant, spec: Any) -> bool:
    within = (
        (spec.max_bytes is None or made.size <= spec.max_bytes)
        and (spec.max_width is None or made.width <= spec.max_width)
        and (spec.max_height is None or made.height <= spec.max_height)
        and (spec.max_fps is None or (made.fps or 0) <= spec.max_fps)
    )
    # Not made smaller or slower than this network would have needed.
    made_for = made.spec
    same_bounds = (made_for["max_width"], made_for["max_height"]) == (
        spec.max_width,
        spec.max_height,
    ) or (made_for["max_width"] is None and made_for["max_height"] is None)
    return within and same_bounds
