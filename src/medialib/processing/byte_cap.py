"""The best JPEG quality under a byte cap, for one picture at one size, in as few whole
encodes as the picture allows.

A JPEG's size grows about exponentially with its quality, so a known point of a
picture's size-for-quality curve and its slope aim an encode at the cap (a secant on log
size). The points come from, best first: whole encodes of this very image; probes of it
(below); the curve measured at the picture's other sizes, scaled by pixels (`SizeCurve`).

A probe encodes 16-row bands spread evenly down the picture: one in eight, or sixteen
bands when that is fewer (a tuned encode costs five plain ones, so a tall picture is
sampled thinner; at 16 bands the estimates of 4,000-row pictures stayed within 1 %).
With 4:2:0 (16x16 blocks) a band's blocks are quantised as in the whole file; the
Huffman tables optimised for the bands and the progressive scans differ a little from
the whole's, so the probe's bytes, scaled by the rows, estimate the whole file's to
within 1.5 % (measured on noise and on scenes of smooth sky and busy ground), at an
eighth of an encode or less. A capped file is so found in one whole encode, two when
the estimate misses.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from medialib.processing.images import vips

QUALITY_RANGE = (70, 92)  # JPEG qualities a variant may have: below 70, fewer pixels win
UNCAPPED_QUALITY = QUALITY_RANGE[1] - 4

Point = tuple[int, float]  # (quality, bytes)

_BAND = 16
_PROBE_EVERY = 8  # at least one band in this many
_PROBE_BANDS = 16  # ... or this many bands, when fewer
_PROBE_MIN_ROWS = 1024  # below this a whole encode costs little: measured instead
_HEADER_BYTES = 500  # markers, tables and scan headers: once per file, not per band
# Estimates are taken this much high: a shortfall costs a fraction of a quality step, a
# miss a second whole encode.
_PROBE_MARGIN = 1.015
_PROBES = 4


# A capped still's JPEG: optimised Huffman tables, progressive scans and libvips'
# quantisation table 4 (tuned for PSNR-HVS-M; needs the mozjpeg libvips is built with,
# ignored elsewhere), 4:2:0 at every quality. At the same bytes this scores as mozjpeg's
# `cjpeg` defaults (trellis included) by SSIMULACRA2, for about a sixth of their time but
# five times a plain encode's (docs/decisions.md, "Quality at a byte cap"): it is spent
# wherever a network caps the bytes. A file with no cap is encoded plainly (standard
# tables, baseline): its bytes are not worth the time.
JPEG_SETTINGS: dict[str, Any] = {
    "optimize_coding": True,
    "interlace": True,
    "quant_table": 4,
    "subsample_mode": "on",
}
_PLAIN_JPEG: dict[str, Any] = {"optimize_coding": False, "subsample_mode": "on"}


def encode(image: Any, fmt: str, quality: int, *, tuned: bool = True) -> bytes:
    """`tuned`: with `JPEG_SETTINGS`, for a file whose bytes a cap makes count."""
    if fmt == "png":
        return bytes(image.pngsave_buffer(compression=9, keep="none"))
    settings = JPEG_SETTINGS if tuned else _PLAIN_JPEG
    return bytes(image.jpegsave_buffer(Q=quality, keep="none", **settings))


class _Probe:
    """16-row bands of a picture (one in eight, or sixteen), joined, encoded to estimate the
    whole's bytes. The bands are computed once (a resize feeding them runs for their rows),
    then every probe encodes them from memory."""

    def __init__(self, image: Any) -> None:
        every = max(_PROBE_EVERY, image.height // (_BAND * _PROBE_BANDS))
        tops = range(_BAND * (every // 2), image.height - _BAND + 1, _BAND * every)
        bands = [image.crop(0, top, image.width, _BAND) for top in tops]
        self._sample = vips().Image.arrayjoin(bands, across=1).copy_memory()
        self._rows_ratio = image.height / (_BAND * len(bands))
        self.estimates: dict[int, float] = {}

    @staticmethod
    def of(image: Any) -> _Probe | None:
        return _Probe(image) if image.height >= _PROBE_MIN_ROWS else None

    def estimate(self, quality: int) -> float:
        if quality not in self.estimates:
            coded = len(encode(self._sample, "jpeg", quality)) - _HEADER_BYTES
            whole = _HEADER_BYTES + max(1, coded) * self._rows_ratio
            self.estimates[quality] = whole * _PROBE_MARGIN
        return self.estimates[quality]

    def best(self, max_bytes: int, prior: list[Point]) -> int:
        """The highest quality whose estimate fits, found in at most `_PROBES` probes: the
        first where the prior aims (the top when nothing is known), each next along the
        secant of the estimates that bracket the cap (or the prior's slope), until a
        fitting quality's next step up is over."""
        low, high = QUALITY_RANGE
        quality = aim([], prior, max_bytes) if prior else high
        for _ in range(_PROBES):
            if self.estimate(quality) <= max_bytes:
                if quality == high or self.estimates.get(quality + 1, 0) > max_bytes:
                    return quality
                quality = max(quality + 1, self._aim(max_bytes, prior))
            else:
                if quality == low or self.estimates.get(quality - 1, math.inf) <= max_bytes:
                    return max(low, quality - 1)
                quality = min(quality - 1, self._aim(max_bytes, prior))
        fitting = [q for q, size in self.estimates.items() if size <= max_bytes]
        return max(fitting, default=low)

    def _aim(self, max_bytes: int, prior: list[Point]) -> int:
        fits = [(q, s) for q, s in self.estimates.items() if s <= max_bytes]
        over = [(q, s) for q, s in self.estimates.items() if s > max_bytes]
        if fits and over:  # the secant of the two that bracket the cap
            return aim([max(fits), min(over)], [], max_bytes)
        side = sorted(fits or over)
        if len(side) >= 2:  # this picture's own slope, from the two nearest the cap
            nearest_two = side[-2:] if fits else side[:2][::-1]
            return aim(nearest_two, [], max_bytes)
        return aim(side, prior, max_bytes)  # with the prior's slope (or a typical one)

    def curve(self) -> list[Point]:
        return sorted(self.estimates.items())


class Fit(NamedTuple):
    data: bytes | None  # the best encoding within the cap; None when even the lowest is over
    points: list[Point]  # the whole encodes made, which aim the picture's other sizes
    guide: list[Point]  # the curve the last aim used (for a next size, if pixels go)


def best_fit(image: Any, fmt: str, max_bytes: int | None, prior: list[Point], most: int = 4) -> Fit:
    """The best encoding within the cap, found in at most `most` whole encodes.

    `prior`: the picture at other sizes, scaled (empty for its first variant). The top
    quality is encoded first when nothing is known (most caps take it) or the prior says
    it fits with room; pixels are given up at once when the prior says even the lowest
    quality is far over; otherwise probes choose the quality of one whole encode (a
    second only when that one is over), or, for a picture too small to probe, whole
    encodes are aimed along the curve. Every encode under a cap is tuned; a file with no
    cap is encoded plainly."""
    low, high = QUALITY_RANGE
    if fmt == "png" or max_bytes is None:
        data = encode(image, fmt, UNCAPPED_QUALITY, tuned=False)
        fits = max_bytes is None or len(data) <= max_bytes
        return Fit(data if fits else None, [(UNCAPPED_QUALITY, float(len(data)))], [])
    own: list[Point] = []  # whole encodes of this very image
    if not prior or predicted([], prior, high) <= max_bytes * 0.9:
        data = encode(image, fmt, high)
        own.append((high, float(len(data))))
        if len(data) <= max_bytes:
            return Fit(data, own, own)
        prior = list(own)  # a point of this very image: better than any scaled one
    if predicted([], prior, low) > max_bytes * 1.1:
        return Fit(None, own, prior)  # no quality fits at this size
    probe = _Probe.of(image)
    if probe is None:
        return Fit(*_searched(image, fmt, max_bytes, prior, own, most))
    quality = probe.best(max_bytes, prior)
    guide = probe.curve()
    if quality == low and probe.estimate(low) > max_bytes:
        return Fit(None, own, guide)  # the probes say no quality fits
    while len(own) < most or not own:
        data = encode(image, fmt, quality)
        own.append((quality, float(len(data))))
        if len(data) <= max_bytes:
            return Fit(data, own, guide)
        if quality == low:
            break
        # The estimate missed: aim again from this encode, along the probes' slope.
        quality = min(quality - 1, aim([own[-1]], guide, max_bytes))
    return Fit(None, own, guide)


def _searched(
    image: Any, fmt: str, max_bytes: int, prior: list[Point], own: list[Point], most: int
) -> tuple[bytes | None, list[Point], list[Point]]:
    """Whole encodes aimed along the curve, each one's size aiming the next."""
    low, high = QUALITY_RANGE
    best: bytes | None = None
    while len(own) < most or not own:
        quality = aim(own, prior, max_bytes)
        if any(q == quality for q, _ in own):
            break
        data = encode(image, fmt, quality)
        own.append((quality, float(len(data))))
        if len(data) <= max_bytes:
            best = data if best is None or len(data) > len(best) else best
            if quality == high or len(own) >= 2:
                break  # the best, or a second encode that fits: a third buys one step
            if predicted(own, prior, quality + 1) > max_bytes:
                break  # one step better would not fit
        elif best is not None:
            break  # aimed higher and missed: the one that fits stands (two encodes)
        elif quality == low or predicted(own, prior, low) > max_bytes * 1.02:
            break  # no quality fits at this size
    return best, own, prior


class SizeCurve:
    """One picture's JPEG bytes for quality as its variants measure them, by size: a
    variant of a size already measured aims straight at its cap; bytes go about with
    pixels, so the nearest size measured, scaled, aims the first encode at another."""

    def __init__(self) -> None:
        self._by_size: dict[int, list[Point]] = {}

    def add(self, points: list[Point], pixels: int) -> None:
        if points:
            self._by_size.setdefault(pixels, []).extend(points)

    def known(self) -> bool:
        return bool(self._by_size)

    def at(self, pixels: int) -> list[Point]:
        """The points of the nearest size measured, scaled to `pixels` (the most recent
        last: the secant uses the last two)."""
        if not self._by_size:
            return []
        nearest = min(self._by_size, key=lambda size: abs(math.log(size / pixels)))
        if abs(math.log(nearest / pixels)) > math.log(4):
            return []  # too far apart to say much
        return [(quality, size * pixels / nearest) for quality, size in self._by_size[nearest]]


def _slope(own: list[Point], prior: list[Point]) -> float:
    """d ln(bytes) / d quality: from this image's own two latest encodes when it has two;
    else from the shape of the prior curve (a least-squares line: scaled points are
    shifted by the scaling's error but keep the slope); else a typical JPEG's. Own and
    scaled points are never mixed in one secant: the scaling's error would be read as a
    slope."""
    if len(own) >= 2:
        (q1, s1), (q2, s2) = own[-2], own[-1]
        if q1 != q2 and s1 > 0 and s2 > 0 and s1 != s2:
            return max(0.01, math.log(s1 / s2) / (q1 - q2))
    usable = [(q, math.log(size)) for q, size in prior if size > 0]
    if len({q for q, _ in usable}) >= 2:
        mean_q = sum(q for q, _ in usable) / len(usable)
        mean_s = sum(v for _, v in usable) / len(usable)
        spread = sum((q - mean_q) ** 2 for q, _ in usable)
        fitted = sum((q - mean_q) * (v - mean_s) for q, v in usable) / spread
        return max(0.01, fitted)
    return 0.045  # 4:2:0 photographs between quality 70 and 92


def predicted(own: list[Point], prior: list[Point], quality: int) -> float:
    q, size = own[-1] if own else prior[-1]
    return size * math.exp(_slope(own, prior) * (quality - q))


def aim(own: list[Point], prior: list[Point], max_bytes: int) -> int:
    """The highest quality the curve says fits under the cap (with 1 % to spare)."""
    low, high = QUALITY_RANGE
    q, size = own[-1] if own else prior[-1]
    wanted = q + math.log(max_bytes * 0.99 / size) / _slope(own, prior)
    return max(low, min(high, math.floor(wanted)))
