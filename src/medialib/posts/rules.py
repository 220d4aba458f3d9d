"""Which of a network's post forms a post takes, and what keeps it from any: counts per
form (N and N+1 of every form), kinds a form does not take, a kind that must be alone,
stills mixed with videos, caption length, a document's title. Pure, from the typed
rules (platforms/rules.py); every reason has the shape of a verdict's reason."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from medialib.platforms.reasons import Reason
from medialib.platforms.rules import Form, Network

_NOUNS = {
    "image": ("image", "images"),
    "gif": ("animation", "animations"),
    "video": ("video", "videos"),
    "audio": ("audio file", "audio files"),
    "document": ("document", "documents"),
}
_STILLS = {"image", "gif"}


def form_reasons(form: Form, kinds: Sequence[str], *, text: str, titled: bool) -> list[Reason]:
    """Why a post of media of these kinds (in order) cannot take this form; none if it can."""
    return list(_form_reasons(form, kinds, text=text, titled=titled))


def _form_reasons(form: Form, kinds: Sequence[str], *, text: str, titled: bool) -> Iterable[Reason]:
    count = len(kinds)
    counted = Counter(kinds)

    def reason(code: str, message: str, *, limit: object = None, actual: object = None) -> Reason:
        return Reason(code, message, "none", form.id, limit, actual)

    for kind in sorted(set(kinds) - set(form.media)):
        yield reason(
            "kind_not_taken",
            f"A {form.label.lower()} does not take {_noun(kind, 2)}.",
            limit=sorted(form.media),
            actual=kind,
        )
    of_kind = [
        reason(
            "too_many_of_kind",
            f"{counted[kind]} {_noun(kind, counted[kind])}; at most {most} in one post.",
            limit=most,
            actual=counted[kind],
        )
        for kind, most in sorted(form.most.items())
        if counted[kind] > most
    ]
    # Five images where four are taken is one fault, said in its own words, not two.
    said = any(r.actual == count for r in of_kind)
    if form.max_items is not None and count > form.max_items and not said:
        yield reason(
            "too_many_media",
            f"{count} media; a {form.label.lower()} takes at most {form.max_items}.",
            limit=form.max_items,
            actual=count,
        )
    if count and count < form.min_items:
        yield reason(
            "too_few_media",
            f"{count} media; a {form.label.lower()} takes at least {form.min_items}.",
            limit=form.min_items,
            actual=count,
        )
    yield from of_kind
    for kind in sorted(form.alone):
        if counted[kind] and count > 1:
            yield reason(
                "must_be_alone",
                f"A post with {_noun(kind, 1, article=True)} can carry nothing else.",
                limit=1,
                actual=count,
            )
    stills = sum(counted[kind] for kind in _STILLS)
    if stills and counted["video"] and not form.mix and not (set(form.alone) & set(kinds)):
        yield reason("no_mixing", "Images and videos cannot be mixed in one post.")
    if form.caption_max_chars is not None and len(text) > form.caption_max_chars:
        yield reason(
            "caption_too_long",
            f"The text is {len(text):,} characters; a caption takes at most "
            f"{form.caption_max_chars:,}.",
            limit=form.caption_max_chars,
            actual=len(text),
        )
    if form.title_required and counted["document"] and not titled:
        yield reason(
            "title_required",
            "A document post needs a title: give the media a `title` in the post (or a "
            "description).",
        )


def choose_form(
    network: Network, kinds: Sequence[str], *, text: str, titled: bool
) -> tuple[Form | None, list[Reason]]:
    """The first form that takes the post, or (when none does) the one it comes closest
    to, with what keeps it out. A post without media takes no form."""
    if not kinds:
        return None, []
    apart = _never_together(network, kinds)
    if apart is not None:
        return None, [apart]
    judged = [(form, form_reasons(form, kinds, text=text, titled=titled)) for form in network.forms]
    fitting = [(form, reasons) for form, reasons in judged if not reasons]
    if fitting:
        return fitting[0][0], []
    form, reasons = min(judged, key=lambda item: _distance(item[1]))
    return form, reasons


def _never_together(network: Network, kinds: Sequence[str]) -> Reason | None:
    """Kinds each taken by some form but by none together (a LinkedIn document beside an
    image; Telegram groups documents only with documents): one reason says so."""
    present = sorted(set(kinds))
    room = [f for f in network.forms if f.max_items is None or f.max_items >= len(kinds)]
    if not room or any(set(present) <= set(form.media) for form in room):
        return None  # some form takes them together, or the count is what is wrong
    if not all(network.forms_for(kind) for kind in present):
        return None  # a kind no form takes: the forms' own reasons name it
    names = " and ".join(_noun(kind, 2) for kind in present)
    return Reason(
        "no_mixing",
        f"{names[0].upper()}{names[1:]} cannot be in one {network.name} post.",
        "none",
        None,
        actual=present,
    )


def _distance(reasons: list[Reason]) -> tuple[int, int, int]:
    """How far a post is from a form: kinds it does not take weigh most, then the number
    of faults, then how far its counts miss (eleven images are nearer a carousel of ten
    than a single-image post)."""
    missed = sum(
        abs(r.actual - r.limit)
        for r in reasons
        if isinstance(r.actual, int) and isinstance(r.limit, int)
    )
    return sum(r.code == "kind_not_taken" for r in reasons), len(reasons), missed


def _noun(kind: str, count: int, *, article: bool = False) -> str:
    one, many = _NOUNS.get(kind, (kind, f"{kind}s"))
    if count != 1:
        return many
    return (("an " if one[0] in "aeiou" else "a ") + one) if article else one
