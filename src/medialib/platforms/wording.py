"""How verdict reasons write numbers and names: sizes with as many decimals as it takes
to read differently, ratios, durations, bit rates, format names. Pure."""

from __future__ import annotations

import regex


def sizes(actual: int, limit: int) -> tuple[str, str]:
    """Both sizes, with as many decimals as it takes for them to read differently."""
    unit, scale = ("MB", 1_000_000) if max(actual, limit) >= 1_000_000 else ("KB", 1_000)
    for decimals in (1, 2, 3):
        shown = trim(f"{actual / scale:.{decimals}f}")
        most = trim(f"{limit / scale:.{decimals}f}")
        if shown != most:
            return f"{shown} {unit}", f"{most} {unit}"
    return f"{actual:,} bytes", f"{limit:,} bytes"


def trim(number: str) -> str:
    return number.rstrip("0").rstrip(".") if "." in number else number


def span(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{ratio(low)}-{ratio(high)}" if low != high else f"exactly {ratio(low)}"
    return f"at least {ratio(low)}" if low is not None else f"at most {ratio(high or 0)}"


def ratio(value: float) -> str:
    return trim(f"{value:.2f}") + ":1"


def seconds(value: float) -> str:
    if value >= 120:
        minutes, rest = divmod(round(value), 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    return f"{value:.1f} s".replace(".0 s", " s")


def mbps(bits: int) -> str:
    return f"{bits / 1_000_000:.1f} Mb/s".replace(".0 Mb/s", " Mb/s")


def upper(name: str) -> str:
    names = {"mov": "QuickTime (MOV)", "hevc": "HEVC (H.265)", "webp": "WebP", "h264": "H.264"}
    return names.get(name, name.upper())


def plural(kind: str) -> str:
    return {"audio": "audio files", "gif": "animations"}.get(kind, f"{kind}s")


def graphemes(text: str) -> int:
    """User-perceived characters (extended grapheme clusters, Unicode UAX #29): what a
    network that counts "characters" as its app shows them counts."""
    return len(regex.findall(r"\X", text))
