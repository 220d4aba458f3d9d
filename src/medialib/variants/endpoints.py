"""The variants route: each network's verdict on a media and the file made for it."""

from __future__ import annotations

from fastapi import APIRouter

from medialib.deps import CurrentWorkspace, StateDep, reading, writing
from medialib.media.service import MediaLibrary
from medialib.schemas import ReasonOut
from medialib.variants.choice import variant_for
from medialib.variants.facts import verdicts_of
from medialib.variants.schemas import PlatformVerdict, Variants, present_variant
from medialib.variants.service import VariantService, is_current

router = APIRouter(prefix="/v1/media", tags=["media"])


@router.get("/{media_id}/variants", response_model=Variants)
def media_variants(media_id: str, workspace: CurrentWorkspace, state: StateDep) -> Variants:
    """Each network's verdict on this media: green (taken as it is), amber (taken once a
    variant is made: smaller, resized, converted) or red (not taken), with reasons, and
    for an image or a video the variant made for each amber network (made ahead of time
    once it is ready; one file may serve several networks). The limits come from the
    platforms data file."""
    with reading(state) as session:
        media = MediaLibrary(session, settings=state.settings).get(workspace, media_id)
        verdicts = verdicts_of(media)
        due = VariantService(session, settings=state.settings).due(media)
        current = is_current(media)
        made = [present_variant(v, state.store) for v in media.variants or []] if current else []
        chosen = {
            v.platform: variant
            for v in verdicts
            if (variant := variant_for(media, v.platform)) is not None
        }
        gets_variants = media.gets_variants
    if due:
        # The rare write of this read: in a transaction of its own, the row locked.
        with writing(state) as session:
            VariantService(session, settings=state.settings).request_fresh(workspace, media_id)
    return Variants(
        id=media_id,
        platforms=[
            PlatformVerdict(
                platform=v.platform,
                verdict=v.verdict,
                form=v.form,
                send_as=v.send_as,
                reasons=[ReasonOut(**reason.as_dict()) for reason in v.reasons],
                variant=present_variant(chosen[v.platform], state.store)
                if v.platform in chosen
                else None,
            )
            for v in verdicts
        ],
        variants=made,
        variants_status=("ready" if current else "pending") if gets_variants else "none",
    )
