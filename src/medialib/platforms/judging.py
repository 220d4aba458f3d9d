"""What every rule check of a post form shares: the form, its rules for the media's kind,
the media's facts, and how a broken rule becomes a Reason (a soft rule, one the network
applies itself, stays green). Sizes, pixels and aspect are checked here for every kind; the
kinds' own rules are in verdicts.py (images, animations, audio, documents) and
video_rules.py (containers, streams, timing, bytes of a video).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from medialib.platforms import limits
from medialib.platforms import wording as say
from medialib.platforms.reasons import Facts, Fix, Reason
from medialib.platforms.rules import Form, KindRule


class JudgeBase:
    """One form's rules for one media, and the checks every kind shares."""

    def __init__(self, form: Form, kind_rule: KindRule, facts: Facts) -> None:
        self.form, self.rules, self.facts = form, kind_rule.rules, facts
        self.send_as = kind_rule.send_as

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
