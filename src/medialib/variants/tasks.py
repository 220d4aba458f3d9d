"""The variants job: make the per-network files a ready media needs (platforms/variants.py
says which) for the rules in force; a media whose variants are current is left alone.
Reads in a short transaction, works without one, keeps the result in another; whatever
is not kept is removed."""

from __future__ import annotations

from medialib.db import session_scope
from medialib.jobs.names import JobName
from medialib.jobs.payloads import JobOutcome, MediaJob
from medialib.jobs.registry import JobContext, registry
from medialib.media.derivatives import Original
from medialib.media.models import MediaStatus
from medialib.media.records import Variant
from medialib.media.repository import MediaRepository
from medialib.platforms.rules import catalog
from medialib.platforms.variants import variant_specs
from medialib.variants import files, readiness
from medialib.variants.facts import facts_of
from medialib.variants.service import VariantService, is_current, variants_key_for


def _give_up(context: JobContext, job: MediaJob, error: str) -> None:
    """Every attempt failed: no variants for this key (the plan says why), none left over."""
    with session_scope(context.session_factory) as session:
        media = MediaRepository(session).get_by_id(job.media_id)
        service = VariantService(session, settings=context.settings)
        replaced = service.keep(media, [], variants_key_for(media)) if media else None
        if media is not None and replaced is not None:
            readiness.record(session, media)
    for stale in replaced or []:
        context.store.delete(stale)


def make_variants(context: JobContext, job: MediaJob) -> JobOutcome:
    rules = catalog()
    with session_scope(context.session_factory) as session:
        media = MediaRepository(session).get_by_id(job.media_id)
        if media is None or media.status != MediaStatus.READY or is_current(media, rules):
            return JobOutcome.SKIPPED
        key = variants_key_for(media, rules)
        facts = facts_of(media)
        has_alpha = bool((media.media_metadata or {}).get("has_alpha"))
        source = files.Source(
            original=Original.usable(media),
            width=media.width or 0,
            height=media.height or 0,
            framing=media.framing,
            preview_key=media.thumbnail.key if media.thumbnail else None,
            rules_version=rules.version,
        )
    # Audio and documents come for their readiness only: no variant is made of them.
    gets_variants = media.gets_variants
    specs = variant_specs(facts, has_alpha=has_alpha, rules=rules) if gets_variants else {}
    made = (
        files.make_variant_files(context.store, context.settings, source, specs)
        if specs and source.width and source.height
        else []
    )
    return _keep(context, source.original, made, key)


for _name in (JobName.MAKE_VARIANTS, JobName.MAKE_VIDEO_VARIANTS):
    registry.register(_name, MediaJob, give_up=_give_up)(make_variants)


def _keep(context: JobContext, source: Original, made: list[Variant], key: str) -> JobOutcome:
    with session_scope(context.session_factory) as session:
        media = MediaRepository(session).get_by_id(source.media_id)
        service = VariantService(session, settings=context.settings)
        replaced = service.keep(media, made, key) if media is not None else None
        if media is not None and replaced is not None:
            readiness.record(session, media)
    # After commit: the files replaced, or (when these were not wanted) the ones just made.
    unwanted = replaced if replaced is not None else [variant.key for variant in made]
    for stale in unwanted:
        context.store.delete(stale)
    return JobOutcome.DONE if replaced is not None else JobOutcome.SKIPPED
