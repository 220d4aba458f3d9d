"""Files cut for one post: a network that shows every carousel item at the first item's
ratio (Instagram) cuts the others around their centre itself; medialib cuts each still
to that ratio around its subject (the user's focal point, else where libvips' attention
looks) as the post is published, so what is shown keeps what matters. Videos are left
to the network (the plan says so). The cut is made like a variant (the same fitting,
byte cap and encoder); the post's target owns it (posts/models.PostCut)."""

from __future__ import annotations

from dataclasses import dataclass

from medialib.config import Settings
from medialib.media.derivatives import Original
from medialib.media.models import Media
from medialib.media.records import Variant
from medialib.platforms.rules import Form, catalog
from medialib.platforms.variants import ImageSpec, cut_spec
from medialib.processing import framing
from medialib.storage.base import ObjectBytes
from medialib.variants import files


@dataclass(frozen=True, slots=True)
class CutAsked:
    """A still of a post to cut for one target, read while its session was open."""

    target_id: str
    media_id: str
    platform: str
    source: files.Source
    spec: ImageSpec


def cuttable(media: Media) -> bool:
    """Whether medialib cuts this media itself (a still with known sides)."""
    return media.network_kind == "image" and bool(media.width and media.height)


def asked(target_id: str, platform: str, form: Form, media: Media, ratio: float) -> CutAsked:
    has_alpha = bool((media.media_metadata or {}).get("has_alpha"))
    return CutAsked(
        target_id=target_id,
        media_id=media.id,
        platform=platform,
        source=files.Source(
            original=Original.usable(media),
            width=media.width or 0,
            height=media.height or 0,
            framing=media.framing,
            preview_key=media.thumbnail.key if media.thumbnail else None,
            rules_version=catalog().version,
        ),
        spec=cut_spec(form.media["image"].rules, ratio, has_alpha=has_alpha),
    )


def make_cut(store: ObjectBytes, settings: Settings, cut: CutAsked) -> Variant | None:
    """The stored file (None when the bytes cannot give one within the rules)."""
    made = files.make_variant_files(store, settings, cut.source, {cut.spec: [cut.platform]})
    return made[0] if made else None


def planned_box(
    media: Media, ratio: float, variant_crop: dict[str, int] | None = None
) -> dict[str, int] | None:
    """The part of the upright original a cut to `ratio` will keep, as far as it can be
    told before the cut: around the user's focal point, else around the middle of the
    crop its variant was given (where libvips' attention looked), else the centre."""
    if not media.width or not media.height:
        return None
    frame = media.framing
    if frame is not None and frame.focal_x is not None and frame.focal_y is not None:
        focal = (frame.focal_x, frame.focal_y)
    elif variant_crop is not None:
        focal = (
            (variant_crop["left"] + variant_crop["width"] / 2) / media.width,
            (variant_crop["top"] + variant_crop["height"] / 2) / media.height,
        )
    else:
        focal = (0.5, 0.5)
    box = framing.crop_box(media.width, media.height, ratio, focal)
    return {"left": box.left, "top": box.top, "width": box.width, "height": box.height}
