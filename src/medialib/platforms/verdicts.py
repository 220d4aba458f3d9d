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

import re
from collections.abc import Iterable
from typing import Any

from medialib.platforms import limits
from medialib.platforms import wording as say
from medialib.platforms.reasons import Colour, Facts, Fix, Reason, Verdict
from medialib.platforms.rules import Catalog, Form, KindRule, Network, catalog

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
_REMUXABLE_VIDEO = {"h264", "hevc"}
_REMUXABLE_AUDIO = {"aac", None}
_LOWEST_VIDEO_BITS = 100_000


def judge_all(facts: Facts, rules: Catalog | None = None) -> list[Verdict]:
    return [judge(network, facts) for network in (rules or catalog())]


def judge(network: Network, facts: Facts) -> Verdict:
    """The network's verdict: the best of the forms that take this kind of media."""
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
    judged = [judge_form(network, form, facts) for form in alone]
    return min(
        enumerate(judged),
        key=lambda ranked: (
            ranked[1].verdict == "red",
            _SEND_AS_ORDER.get(ranked[1].send_as, 3),
            ranked[0],
        ),
    )[1]


def judge_form(network: Network, form: Form, facts: Facts) -> Verdict:
    """This media in one post form of the network."""
    kind_rule = form.media[facts.kind]
    reasons = list(_Judge(form, kind_rule, facts).reasons())
    colour: Colour = max(
        (_COLOUR_OF[r.fix] for r in reasons), key=lambda c: _ORDER[c], default="green"
    )
    return Verdict(network.id, colour, form.id, reasons, kind_rule.send_as)


class _Judge:
    """Every rule of one form's rules for one media, each broken one a Reason."""

    def __init__(self, form: Form, kind_rule: KindRule, facts: Facts) -> None:
        self.form, self.rules, self.facts = form, kind_rule.rules, facts
        self.send_as = kind_rule.send_as

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

    # --- helpers

    def _reason(
        self,
        code: str,
        message: str,
        fix: Fix,
        *,
        limit: Any = None,
        actual: Any = None,
        rule: str | None = None,
    ) -> Reason:
        if rule is not None and rule in self.rules.soft:
            fix = "scaled_by_network"
        return Reason(code, message, fix, self.form.id, limit, actual)

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

    def _limits(self, rows: Iterable[limits.Limit]) -> Iterable[Reason]:
        """Every row of the table the facts break, as a reason (see limits.py)."""
        for row, actual, limit, soft in limits.broken(rows, self.rules, self.facts):
            message = row.message(self.facts, actual, limit, soft)
            fix: Fix = "scaled_by_network" if soft else row.fix
            yield Reason(row.code, message, fix, self.form.id, limit, row.shown(actual))

    def _bytes(self, *, convertible: bool) -> Iterable[Reason]:
        rules, size = self.rules, self.facts.size
        if size is None:
            return
        if rules.max_bytes is not None and size > rules.max_bytes:
            shown, most = say.sizes(size, rules.max_bytes)
            how = " when sent by URL" if rules.by_url else ""
            fix: Fix = "convert" if convertible else "none"
            what = (
                f"Its JPEG copy (what is sent for the {say.upper(self.facts.rendition_of)}) is "
                if self.facts.rendition_of
                else ""
            )
            yield self._reason(
                "file_too_large",
                f"{what}{shown}; at most {most}{how}."
                + (" medialib makes a smaller variant." if convertible else ""),
                fix,
                limit=rules.max_bytes,
                actual=size,
                rule="max_bytes",
            )
        yield from self._limits([limits.MIN_BYTES])

    def _pixels(self) -> Iterable[Reason]:
        width, height = self.facts.width, self.facts.height
        if not width or not height:
            return
        yield from self._limits(limits.PIXELS)
        yield from self._aspect(width, height)

    def _aspect(self, width: int, height: int) -> Iterable[Reason]:
        rules, ratio = self.rules, width / height
        low, high = rules.min_aspect, rules.max_aspect
        narrow, wide = limits.aspect_outside(width, height, low, high)
        if not (narrow or wide):
            return
        span = say.span(low, high)
        fit = self.facts.fit
        yield self._reason(
            "aspect_ratio_out_of_range",
            f"Aspect ratio {say.ratio(ratio)} is outside {span}; medialib makes a "
            + ("cropped" if fit == "crop" else "padded")
            + " variant.",
            fit,
            limit=[low, high],
            actual=round(ratio, 4),
            rule="min_aspect" if narrow else "max_aspect",
        )

    # --- video

    def _video(self) -> Iterable[Reason]:
        rules, facts = self.rules, self.facts
        stream_reasons = list(self._video_streams())
        yield from stream_reasons
        remuxable = (
            not stream_reasons
            and facts.codec in _REMUXABLE_VIDEO
            and (facts.audio_codec in _REMUXABLE_AUDIO)
            and not facts.rotation
        )
        mend: Fix = "remux" if remuxable else "convert"
        if (
            rules.containers is not None
            and facts.container
            and facts.container not in rules.containers
        ):
            yield self._reason(
                "container_not_accepted",
                f"{say.upper(facts.container)} files are not taken here; medialib "
                + ("repackages the streams as MP4." if remuxable else "makes an MP4."),
                mend,
                limit=sorted(rules.containers),
                actual=facts.container,
            )
        if rules.moov_first and facts.moov_first is False:
            yield self._reason(
                "moov_not_first",
                "The file's index (moov) comes after its media; this network wants it first.",
                mend,
                limit="moov first",
                actual="moov last",
            )
        if rules.no_edit_lists and facts.edit_lists:
            yield self._reason(
                "edit_lists",
                "The file carries edit lists, which this network refuses.",
                mend,
                limit="no edit lists",
                actual="edit lists",
            )
        yield from self._timing(animated=False)
        yield from self._pixels()
        yield from self._video_bytes(with_audio=facts.has_audio)

    def _video_streams(self) -> Iterable[Reason]:
        """What only a new encode mends: codecs, chroma, scan, bit rate, audio."""
        rules, facts = self.rules, self.facts
        if rules.video_codecs is not None and facts.codec and facts.codec not in rules.video_codecs:
            yield self._reason(
                "video_codec_not_accepted",
                f"{say.upper(facts.codec)} video is not taken here; "
                "medialib makes an H.264 variant.",
                "convert",
                limit=sorted(rules.video_codecs),
                actual=facts.codec,
            )
        chroma = _chroma(facts.pix_fmt)
        if rules.chroma_420 and chroma is not None and chroma != "420":
            yield self._reason(
                "chroma_subsampling",
                f"4:{chroma[1]}:{chroma[2]} chroma; this network wants 4:2:0.",
                "convert",
                limit="4:2:0",
                actual=f"4:{chroma[1]}:{chroma[2]}",
            )
        depth = _bit_depth(facts.pix_fmt)
        if rules.eight_bit and depth is not None and depth > 8:
            yield self._reason(
                "bit_depth",
                f"{depth}-bit video; this network wants 8-bit (yuv420p): medialib makes an "
                "8-bit variant (HDR tone-mapped).",
                "convert",
                limit=8,
                actual=depth,
            )
        if rules.progressive and facts.interlaced:
            yield self._reason(
                "interlaced",
                "Interlaced video; this network wants progressive scan.",
                "convert",
                limit="progressive",
                actual="interlaced",
            )
        if rules.square_pixels and facts.sample_aspect:
            yield self._reason(
                "non_square_pixels",
                f"Anamorphic video (pixels {facts.sample_aspect}); this network wants square "
                "pixels: medialib makes a variant at the size it is shown.",
                "convert",
                limit="1:1",
                actual=facts.sample_aspect,
            )
        yield from self._limits([limits.VIDEO_BITRATE])
        yield from self._audio_stream()

    def _audio_stream(self) -> Iterable[Reason]:
        rules, facts = self.rules, self.facts
        if not facts.has_audio or facts.audio_codec is None:
            return
        if rules.audio_codecs is not None and facts.audio_codec not in rules.audio_codecs:
            yield self._reason(
                "audio_codec_not_accepted",
                f"{say.upper(facts.audio_codec)} audio is not taken here; medialib makes AAC.",
                "convert",
                limit=sorted(rules.audio_codecs),
                actual=facts.audio_codec,
            )
        elif rules.audio_profiles and facts.audio_profile not in rules.audio_profiles:
            yield self._reason(
                "audio_profile_not_accepted",
                f"{facts.audio_profile or 'This'} AAC is not taken here; medialib makes AAC-LC.",
                "convert",
                limit=sorted(rules.audio_profiles),
                actual=facts.audio_profile,
            )
        yield from self._limits(limits.AUDIO)

    def _animation_timing(self) -> Iterable[Reason]:
        """An animation made into a video plays for whole loops: one shorter than the
        network's minimum is looped up to it, not refused."""
        rules, facts = self.rules, self.facts
        plays = loops_to_reach(facts.duration_ms, rules.min_duration_s)
        if plays > 1 and facts.duration_ms:
            one = facts.duration_ms / 1000
            yield self._reason(
                "too_short",
                f"{say.seconds(one)} long; at least {say.seconds(rules.min_duration_s or 0)}: "
                f"medialib loops it {plays} times ({say.seconds(one * plays)}).",
                "convert",
                limit=rules.min_duration_s,
                actual=round(one, 3),
            )
        yield from (
            reason
            for reason in self._limits([*limits.DURATION, limits.MAX_FPS])
            if reason.code != "too_short"
        )

    def _timing(self, *, animated: bool) -> Iterable[Reason]:
        yield from self._limits(limits.DURATION)
        yield from self._limits([limits.MAX_FPS] if animated else [limits.MAX_FPS, limits.MIN_FPS])

    def _video_bytes(self, *, with_audio: bool) -> Iterable[Reason]:
        rules, facts = self.rules, self.facts
        if facts.size is None or rules.max_bytes is None or facts.size <= rules.max_bytes:
            if facts.kind == "video":
                yield from self._min_bytes()
            return
        seconds = max((facts.duration_ms or 0) / 1000, 0.1)
        budget = rules.max_bytes * 8 * 0.97 - (128_000 * seconds if with_audio else 0)
        fits = budget / (seconds + 1) >= _LOWEST_VIDEO_BITS
        shown, most = say.sizes(facts.size, rules.max_bytes)
        how = " when sent by URL" if rules.by_url else ""
        yield self._reason(
            "file_too_large",
            f"{shown}; at most {most}{how}. "
            + (
                "medialib makes a smaller variant."
                if fits
                else "Too long to fit at any watchable quality."
            ),
            "convert" if fits else "none",
            limit=rules.max_bytes,
            actual=facts.size,
            rule="max_bytes",
        )

    def _min_bytes(self) -> Iterable[Reason]:
        yield from (r for r in self._bytes(convertible=False) if r.code == "file_too_small")

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


def loops_to_reach(duration_ms: int | None, least_s: float | None) -> int:
    """How many plays of an animation last at least `least_s` (1 when unknown or long)."""
    if not duration_ms or not least_s or duration_ms >= least_s * 1000:
        return 1
    return -(-int(least_s * 1000) // duration_ms)


def _bit_depth(pix_fmt: str | None) -> int | None:
    """yuv420p10le is 10-bit; a name without a depth is 8-bit."""
    if not pix_fmt:
        return None
    found = re.search(r"p(9|10|12|14|16)(le|be)?$", pix_fmt)
    return int(found.group(1)) if found else 8


def _chroma(pix_fmt: str | None) -> str | None:
    if not pix_fmt or not pix_fmt.startswith(("yuv", "yuvj")):
        return None
    digits = pix_fmt.removeprefix("yuvj").removeprefix("yuva").removeprefix("yuv")[:3]
    return digits if digits.isdigit() else None
