"""The per-target check a post goes through, and its plan: for each network, the post
form it takes, what keeps it out, and the file each media goes out as (asked of
variants/choice). One evaluation serves scheduling (refused with every reason at once),
the composer's check (nothing saved), `GET /plan`, and the publisher at the due time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from medialib.accounts.models import Account
from medialib.media.models import Media, PostCut
from medialib.platforms import wording as say
from medialib.platforms.reasons import Reason
from medialib.platforms.rules import Form, MediaRules, Network, catalog
from medialib.platforms.wording import graphemes
from medialib.posts.models import Post, PostMedia, PostTarget
from medialib.posts.rules import choose_form
from medialib.posts.schemas import PlannedMedia, PlannedTarget
from medialib.schemas import ReasonOut
from medialib.storage.base import ObjectBytes
from medialib.variants import carousel
from medialib.variants.choice import Choice, ChosenFile, choose
from medialib.variants.facts import facts_of


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One media of a target's plan as the publisher sends it."""

    item: PostMedia
    media: Media
    file: ChosenFile
    kind: str  # what it is to the network: image, gif (an animation), video, ...
    send_as: str | None  # the form's `send_as` for its kind (video: an animation's MP4)


@dataclass(frozen=True, slots=True)
class TargetPlan:
    target: PostTarget
    form: Form | None
    planned: PlannedTarget
    outgoing: list[Outgoing]  # complete only when `planned.ok`
    # Stills medialib cuts for this target before it goes (a carousel at the first
    # item's ratio), none cut yet: (media, ratio).
    cuts_due: list[tuple[Media, float]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Evaluation:
    plans: list[TargetPlan]

    @property
    def targets(self) -> list[PlannedTarget]:
        return [plan.planned for plan in self.plans]

    @property
    def ok(self) -> bool:
        return all(plan.planned.ok for plan in self.plans)

    def errors(self) -> list[dict[str, Any]]:
        """Every reason that keeps the post from being scheduled, each with where it is
        (`platform`, `media_id`: null for the post as a whole) and the reason's fields
        (`code`, `message`, `limit`, `actual`, `fix`, `form`; `reason` repeats `message`)."""
        found: list[dict[str, Any]] = []
        for target in self.targets:
            found += [_error(target.platform, None, r) for r in target.reasons]
            for item in target.media:
                if item.blocking:
                    found += [_error(target.platform, item.media_id, r) for r in item.reasons]
        return found


class PostChecker:
    def __init__(self, store: ObjectBytes) -> None:
        self.store = store

    def evaluate(
        self,
        post: Post,
        media: dict[str, Media],
        accounts: Sequence[Account] = (),
        cuts: Sequence[PostCut] = (),
    ) -> Evaluation:
        """`accounts`: the workspace's, for how each target's publisher sends files (its
        own account, or the network's only one, as scheduling assigns it); `cuts`: the
        files already cut for the post's targets (a carousel's items, as it was published)."""
        rules = catalog()
        ordered = [(item, media[item.media_id]) for item in post.media]
        kinds = [m.network_kind for _, m in ordered]
        titled = all(
            (item.title or m.description) for item, m in ordered if m.network_kind == "document"
        )
        plans = []
        for target in post.targets:
            network = rules.networks[target.platform]
            form, reasons = choose_form(network, kinds, text=post.text, titled=titled)
            reasons = [*reasons, *_text_reasons(network, post.text)]
            uploads = _sends_by_upload(target, accounts)
            chosen = [(item, m, choose(network, form, m, uploads=uploads)) for item, m in ordered]
            cut = {c.media_id: c for c in cuts if c.target_id == target.id}
            chosen = [(item, m, _with_cut(choice, cut.get(m.id))) for item, m, choice in chosen]
            planned = [self._planned(form, item, m, choice) for item, m, choice in chosen]
            due: list[tuple[Media, float]] = []
            if form is not None and form.ratio_of_first:
                planned, due = _shown_at_first_ratio(
                    network, planned, [m for _, m in ordered], set(cut)
                )
            ok = not reasons and all(not p.blocking for p in planned)
            plans.append(
                TargetPlan(
                    target=target,
                    form=form,
                    planned=PlannedTarget(
                        target_id=target.id,
                        platform=target.platform,
                        account_id=target.account_id,
                        form=form.id if form is not None else None,
                        ok=ok,
                        reasons=[_out(r) for r in reasons],
                        media=planned,
                    ),
                    outgoing=[
                        _outgoing(form, item, m, choice.file)
                        for item, m, choice in chosen
                        if choice.file is not None
                    ],
                    cuts_due=due,
                )
            )
        return Evaluation(plans)

    def _planned(
        self, form: Form | None, item: PostMedia, media: Media, choice: Choice
    ) -> PlannedMedia:
        rules = choice.rules_form.media[facts_of(media).kind].rules if choice.rules_form else None
        alt = _alt_text_reasons(rules, item.alt_text, form) if choice.verdict else []
        if choice.file is None:
            return PlannedMedia(
                media_id=media.id,
                send=None,
                reasons=[_out(r) for r in (*choice.refusals, *alt)],
                blocking=True,
            )
        chosen = choice.file
        cover = media.thumbnail.key if media.thumbnail and media.kind == "video" else None
        return PlannedMedia(
            media_id=media.id,
            send=choice.send,
            url=self.store.public_url(chosen.key),
            content_type=chosen.content_type,
            width=chosen.width,
            height=chosen.height,
            size=chosen.size,
            checksum_sha256=chosen.checksum_sha256,
            duration_ms=chosen.duration_ms,
            alt_text=item.alt_text,
            cover_url=self.store.public_url(cover) if cover else None,
            crop=chosen.crop,
            reasons=[_out(r) for r in (*choice.reasons, *alt)],
            blocking=bool(alt),
        )


def _sends_by_upload(target: PostTarget, accounts: Sequence[Account]) -> bool:
    if target.account_id is not None:
        own = [a for a in accounts if a.id == target.account_id]
    else:
        own = [a for a in accounts if a.network == target.platform]
    return len(own) == 1 and own[0].sends_files == "upload"


def _with_cut(choice: Choice, cut: PostCut | None) -> Choice:
    """The file cut for this target, where one was (it replaces the item's own)."""
    if cut is None or choice.file is None:
        return choice
    file = ChosenFile(
        key=cut.key,
        content_type=cut.content_type,
        width=cut.width,
        height=cut.height,
        size=cut.size,
        checksum_sha256=cut.checksum_sha256,
        crop=cut.crop,
    )
    return replace(choice, send="variant", file=file)


def _shown_at_first_ratio(
    network: Network, planned: list[PlannedMedia], media: list[Media], cut: set[str]
) -> tuple[list[PlannedMedia], list[tuple[Media, float]]]:
    """A form whose network shows every item at the first item's ratio (Instagram's
    carousel): a later still of another shape is cut to it by medialib as the post goes
    (around its subject; `cut` names those cut already), a video by the network itself
    (around its centre). The plan says so and shows the part that stays. Also: the
    stills still to cut, with the ratio."""
    first = planned[0] if planned else None
    if first is None or not first.width or not first.height:
        return planned, []
    wanted = first.width / first.height
    shown, due = [first], []
    for item, source in zip(planned[1:], media[1:], strict=True):
        if item.media_id in cut:
            note = _carousel_note(network, wanted, item, "cut")
            shown.append(item.model_copy(update={"reasons": [*item.reasons, _out(note)]}))
            continue
        if not item.width or not item.height or not source.width or not source.height:
            shown.append(item)
            continue
        if abs(item.width / item.height - wanted) <= 0.01 * wanted:
            shown.append(item)
            continue
        if item.send is not None and carousel.cuttable(source):
            due.append((source, wanted))
            note = _carousel_note(network, wanted, item, "to_cut")
            box = carousel.planned_box(source, wanted, item.crop)
        else:
            note = _carousel_note(network, wanted, item, "network")
            box = _in_original(_centred(item.width, item.height, wanted), item, source)
        shown.append(
            item.model_copy(update={"network_crop": box, "reasons": [*item.reasons, _out(note)]})
        )
    return shown, due


def _carousel_note(network: Network, wanted: float, item: PlannedMedia, how: str) -> Reason:
    shape = say.ratio(item.width / item.height) if item.width and item.height else ""
    said = {
        "cut": f"medialib cut this one to that ratio around its subject (as {network.name} "
        "would have cut its centre).",
        "to_cut": f"medialib cuts this one ({shape}) to that ratio around its subject as the "
        f"post goes, where {network.name} would cut its centre. Put the item whose shape "
        "matters first, or give them one shape.",
        "network": f"{network.name} cuts this one ({shape}) to that itself, around the centre. "
        "Put the item whose shape matters first, or give them one shape.",
    }[how]
    return Reason(
        "carousel_ratio",
        f"{network.name} shows every carousel item at the first item's ratio "
        f"({say.ratio(wanted)}): {said}",
        "scaled_by_network" if how == "network" else "crop",
        "carousel",
        round(wanted, 4),
        round(item.width / item.height, 4) if item.width and item.height else None,
    )


def _centred(width: int, height: int, wanted: float) -> dict[str, int]:
    """The centred box of ratio `wanted` a network cuts from width x height."""
    if width / height > wanted:
        cut = max(1, round(height * wanted))
        return {"left": (width - cut) // 2, "top": 0, "width": cut, "height": height}
    cut = max(1, round(width / wanted))
    return {"left": 0, "top": (height - cut) // 2, "width": width, "height": cut}


def _in_original(box: dict[str, int], item: PlannedMedia, source: Media) -> dict[str, int] | None:
    """`box` (in the pixels of the file sent) as the part of the upright original it is:
    through the variant's own crop when it has one, else scaled; None when the file is not
    a plain picture of the original (padded onto a backdrop)."""
    assert item.width and item.height and source.width and source.height
    whole = {"left": 0, "top": 0, "width": source.width, "height": source.height}
    frame = item.crop or whole
    same_shape = abs(frame["width"] / frame["height"] - item.width / item.height) <= 0.02 * (
        item.width / item.height
    )
    if not same_shape:
        return None
    across, down = frame["width"] / item.width, frame["height"] / item.height
    return {
        "left": frame["left"] + round(box["left"] * across),
        "top": frame["top"] + round(box["top"] * down),
        "width": round(box["width"] * across),
        "height": round(box["height"] * down),
    }


def _outgoing(form: Form | None, item: PostMedia, media: Media, file: ChosenFile) -> Outgoing:
    kind = media.network_kind
    send_as = form.media[kind].send_as if form is not None and form.takes(kind) else None
    return Outgoing(item=item, media=media, file=file, kind=kind, send_as=send_as)


def _text_reasons(network: Network, text: str) -> list[Reason]:
    most = network.text_max_graphemes
    if most is None:
        return []
    length = graphemes(text)
    if length <= most:
        return []
    return [
        Reason(
            "text_too_long",
            f"The text is {length:,} characters; {network.name} takes at most {most:,}.",
            "none",
            None,
            most,
            length,
        )
    ]


def _error(platform: str, media_id: str | None, reason: ReasonOut) -> dict[str, Any]:
    return {
        "platform": platform,
        "media_id": media_id,
        "reason": reason.message,
        **reason.model_dump(),
    }


def _out(reason: Reason) -> ReasonOut:
    return ReasonOut(**reason.as_dict())


def _alt_text_reasons(
    rules: MediaRules | None, alt_text: str | None, form: Form | None
) -> list[Reason]:
    longest = rules.alt_text_max_chars if rules is not None else None
    if alt_text and longest is not None and len(alt_text) > longest:
        return [
            Reason(
                "alt_text_too_long",
                f"The alt text is {len(alt_text):,} characters; at most {longest:,}.",
                "none",
                form.id if form is not None else None,
                longest,
                len(alt_text),
            )
        ]
    return []
