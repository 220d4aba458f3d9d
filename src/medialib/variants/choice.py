"""Which file of a media a network is sent: the original (as it is, or a HEIC through its
JPEG rendition), the variant made for that network, or nothing, with why. The one place
that answers it: the post check and plan, the variants route and the publisher ask here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from medialib.media.models import Media, MediaStatus
from medialib.media.records import Variant
from medialib.platforms.reasons import Reason, Verdict
from medialib.platforms.rules import Form, Network
from medialib.platforms.verdicts import judge, judge_form
from medialib.variants.facts import facts_of, variant_facts
from medialib.variants.service import is_current


@dataclass(frozen=True, slots=True)
class ChosenFile:
    """A stored file, as a network will receive it."""

    key: str
    content_type: str
    width: int | None
    height: int | None
    size: int | None
    checksum_sha256: str | None = None
    duration_ms: int | None = None
    crop: dict[str, int] | None = None


@dataclass(frozen=True, slots=True)
class Choice:
    """What a network gets of one media: `send` is None when it gets nothing; `reasons`
    are the verdict's notes (amber reasons a variant mends), `refusals` what keeps it out."""

    send: Literal["original", "variant"] | None
    file: ChosenFile | None = None
    verdict: Verdict | None = None
    reasons: list[Reason] = field(default_factory=list)
    refusals: list[Reason] = field(default_factory=list)
    rules_form: Form | None = None  # the form whose media rules judged it (alt text cap)


def variant_for(media: Media, network_id: str) -> Variant | None:
    """The current variant made for a network, if there is one."""
    if not is_current(media):
        return None
    return next((v for v in media.variants or [] if network_id in v.platforms), None)


def original_file(media: Media) -> ChosenFile:
    usable = media.usable_file
    same_bytes = usable.key == media.storage_key
    return ChosenFile(
        key=usable.key,
        content_type=usable.content_type,
        width=media.width,
        height=media.height,
        size=usable.size if usable.size is not None else media.size,
        checksum_sha256=media.checksum_sha256 if same_bytes else None,
        duration_ms=media.duration_ms,
    )


def variant_file(variant: Variant) -> ChosenFile:
    return ChosenFile(
        key=variant.key,
        content_type=variant.content_type,
        width=variant.width,
        height=variant.height,
        size=variant.size,
        checksum_sha256=variant.checksum_sha256,
        duration_ms=variant.duration_ms,
        crop=variant.crop,
    )


def choose(network: Network, form: Form | None, media: Media, *, uploads: bool = False) -> Choice:
    """The file `network` gets of `media` in a post of `form` (None: judged in the best
    form that takes it alone); `uploads`: sent as an upload, not fetched by URL."""
    if media.status != MediaStatus.READY:
        why = Reason(
            "not_ready",
            f"It is {media.status}; only ready media can be scheduled.",
            "none",
            actual=str(media.status),
        )
        return Choice(None, refusals=[why])
    facts = facts_of(media)
    in_form = form is not None and form.takes(facts.kind)
    verdict = (
        judge_form(network, form, facts, uploads=uploads)
        if form is not None and in_form
        else judge(network, facts, uploads=uploads)
    )
    rules_form = form if in_form else None
    if verdict.verdict == "red":
        return Choice(None, verdict=verdict, refusals=list(verdict.reasons), rules_form=rules_form)
    notes = list(verdict.reasons)
    if verdict.verdict == "green":
        return Choice("original", original_file(media), verdict, notes, rules_form=rules_form)
    variant = variant_for(media, network.id)
    if variant is None:
        return Choice(
            None, verdict=verdict, refusals=[_no_variant(media), *notes], rules_form=rules_form
        )
    misfit = _variant_misfit(network, form, media, variant, facts.kind)
    if misfit is not None:
        return Choice(None, verdict=verdict, refusals=[misfit], rules_form=rules_form)
    return Choice("variant", variant_file(variant), verdict, notes, rules_form=rules_form)


def _no_variant(media: Media) -> Reason:
    if media.gets_variants and not is_current(media):
        return Reason(
            "variant_pending", "Its variant for this network is still being made.", "convert"
        )
    return Reason("variant_missing", "It needs a variant medialib could not make.", "none")


def _variant_misfit(
    network: Network, form: Form | None, media: Media, variant: Variant, kind: str
) -> Reason | None:
    """A variant is made for the form a media goes out in by itself (Instagram: the feed
    or a Reel); a post in another form (a carousel) may ask more of it."""
    made = variant_facts(media, variant)
    if form is None or made.kind != kind or not form.takes(kind):
        return None
    judged = judge_form(network, form, made)
    if judged.verdict == "green":
        return None
    first = judged.reasons[0]
    return Reason(
        "variant_does_not_fit",
        f"Its {network.name} variant does not fit a {form.label.lower()}: {first.message}",
        "none",
        form.id,
        first.limit,
        first.actual,
    )
