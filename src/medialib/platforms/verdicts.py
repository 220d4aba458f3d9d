"""Whether each network takes a media as it is (green), once medialib makes a variant of
it (amber), or not at all (red), with a reason object per rule it breaks. Pure: facts in,
verdicts out, every rule read from the typed catalog (rules.py).

A network takes media in several post forms (a feed post, a carousel, a Reel); a media is
judged in each form that takes its kind, and the network's verdict is the best of them,
naming that form. A reason's `fix` says what would mend it: `convert` (medialib makes a
variant), `remux` (the same streams in a conforming MP4), `crop` or `pad` (fitting an
aspect ratio, as the media asks), `scaled_by_network` (a rule the network applies itself:
still green), or `none` (no variant can: red).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from medialib.platforms import limits
from medialib.platforms import wording as say
from medialib.platforms.reasons import Colour, Facts, Fix, Reason, Verdict
from medialib.platforms.rules import Catalog, Form, KindRule, Network, catalog
from medialib.platforms.video_rules import VideoJudge, loops_to_reach

_ORDER: dict[Colour, int] = {"green": 0, "amber": 1, "red": 2}
_COLOUR_OF: dict[Fix, Colour] = {
    "convert": "amber",
    "remux": "amber",
    "crop": "amber",
    "pad": "amber",
    "scaled_by_network": "green",
    "none": "red",
}
_SEND_AS_ORDER = {None: 0, "gif": 1, "video": 1, "still": 2}


def judge_all(facts: Facts, rules: Catalog | None = None) -> list[Verdict]:
    return [judge(network, facts) for network in (rules or catalog())]


def judge(network: Network, facts: Facts, *, uploads: bool = False) -> Verdict:
    """The network's verdict: the best of the forms that take this kind of media.
    `uploads`: the file is uploaded to the network rather than fetched by it from a URL
    (where the network caps those differently, Telegram's 20 MB by URL against 50 MB
    uploaded; the account says how its publisher sends)."""
    forms = network.forms_for(facts.kind)
    if not forms:
        reason = Reason(
            "kind_not_taken",
            f"{network.name} does not take {say.plural(facts.kind)}.",
            "none",
            actual=facts.kind,
        )
        return Verdict(network.id, "red", None, [reason])
    # One media alone cannot make a carousel: the forms it can go out in by itself. The
    # network's main form wins (the data lists forms in that order: a portrait photo is
    # judged, and cropped, for Instagram's feed even though a story would take it as it
    # is), unless it refuses the media or another keeps an animation it would flatten.
    alone = [form for form in forms if form.min_items <= 1] or list(forms)
    judged = [judge_form(network, form, facts, uploads=uploads) for form in alone]
    return min(
        enumerate(judged),
        key=lambda ranked: (
            ranked[1].verdict == "red",
            _SEND_AS_ORDER.get(ranked[1].send_as, 3),
            ranked[0],
        ),
    )[1]


def judge_form(network: Network, form: Form, facts: Facts, *, uploads: bool = False) -> Verdict:
    """This media in one post form of the network."""
    kind_rule = form.media[facts.kind]
    if uploads and kind_rule.rules.by_url:
        uploaded = replace(
            kind_rule.rules, max_bytes=kind_rule.rules.upload_max_bytes, by_url=False
        )
        kind_rule = KindRule(uploaded, kind_rule.send_as)
    reasons = list(_Judge(form, kind_rule, facts).reasons())
    colour: Colour = max(
        (_COLOUR_OF[r.fix] for r in reasons), key=lambda c: _ORDER[c], default="green"
    )
    return Verdict(network.id, colour, form.id, reasons, kind_rule.send_as)


class _Judge(VideoJudge):
    """Every rule of one form's rules for one media, each broken one a Reason (the shared
    checks in judging.py, a video's in video_rules.py)."""

    def reasons(self) -> Iterable[Reason]:
        facts = self.facts
        if self.send_as == "video":
            yield self._reason(
                "animation_sent_as_video",
                "Sent as a video here: medialib makes an MP4 of the animation.",
                "convert",
            )
            yield from self._animation_timing()
            yield from self._pixels()  # the MP4 is made to fit the byte cap
            return
        if self.send_as == "still":
            yield self._reason(
                "animation_sent_as_still",
                "This network takes no animations: its first frame is sent as an image.",
                "convert",
            )
            yield from self._pixels()
            return
        if facts.kind == "video":
            yield from self._video()
        elif facts.kind in ("image", "gif"):
            yield from self._image()
        elif facts.kind == "audio":
            yield from self._audio()
        elif facts.kind == "document":
            yield from self._document()

    # --- images and animations

    def _image(self) -> Iterable[Reason]:
        rules, facts = self.rules, self.facts
        wanted = "gif" if facts.kind == "gif" else None
        if rules.formats is not None and facts.format and facts.format not in rules.formats:
            target = "an animated GIF" if wanted else "a JPEG (a PNG where transparency matters)"
            if facts.format == "apng":  # no network takes APNG motion: say it is lost
                target += " of its first frame; its animation is lost"
            yield self._reason(
                "format_not_accepted",
                f"{say.upper(facts.format)} is not taken here; medialib makes {target}.",
                "convert",
                limit=sorted(rules.formats),
                actual=facts.format,
            )
        elif wanted and facts.format and facts.format != "gif":
            yield self._reason(
                "format_not_accepted",
                f"Animations go out as GIFs here; medialib makes one from this "
                f"{say.upper(facts.format)}.",
                "convert",
                limit=["gif"],
                actual=facts.format,
            )
        if rules.srgb and facts.colour_space and facts.colour_space not in ("srgb", "b-w"):
            yield self._reason(
                "colour_space",
                f"{facts.colour_space.upper()} colour; this network wants sRGB.",
                "convert",
                limit="srgb",
                actual=facts.colour_space,
            )
        yield from self._bytes(convertible=True)  # a smaller still, a smaller GIF
        yield from self._pixels()
        if facts.kind == "gif":
            yield from self._frames()

    def _frames(self) -> Iterable[Reason]:
        yield from self._limits(limits.FRAMES)

    # --- audio and documents

    def _format_refused(self, what: str) -> Iterable[Reason]:
        """A format medialib does not convert (audio, documents): refused as it is."""
        rules, facts = self.rules, self.facts
        if rules.formats is not None and facts.format and facts.format not in rules.formats:
            yield self._reason(
                "format_not_accepted",
                f"{say.upper(facts.format)} {what} not taken here.",
                "none",
                limit=sorted(rules.formats),
                actual=facts.format,
            )

    def _audio(self) -> Iterable[Reason]:
        yield from self._format_refused("audio is")
        yield from self._bytes(convertible=False)
        yield from self._timing(animated=False)

    def _document(self) -> Iterable[Reason]:
        yield from self._format_refused("documents are")
        yield from self._bytes(convertible=False)
        yield from self._limits([limits.PAGES])


__all__ = ["judge", "judge_all", "judge_form", "loops_to_reach"]
