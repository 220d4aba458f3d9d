"""The filter graph every picture of an encode goes through (in the encoding child, see
transcode.py): deinterlaced, anamorphic pixels squared, turned upright, cropped, scaled
into the box with its colour made BT.709 (HDR tone-mapped, see tonemap.py), 4:2:0, padded,
at a constant rate from the source's own timestamps."""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from medialib.processing import tonemap
from medialib.processing.framing import Box, padded_size

_TURNS = {90: ("transpose", "cclock"), 180: ("rotate", "PI"), 270: ("transpose", "clock")}


def tag_bt709(context: Any) -> None:
    """Every made file says what it is: BT.709 primaries, transfer and matrix, limited
    range (what every network's player assumes, and what `_colour_steps` converts to)."""
    context.color_primaries = 1
    context.color_trc = 1
    context.colorspace = 1
    context.color_range = 1


@dataclass(frozen=True, slots=True)
class Shaping:
    """What every picture is made into (in the child)."""

    fps: Fraction
    target: dict[str, Any]
    crop: Box | None
    sar: Fraction  # the source's pixel shape (anamorphic video's are wide)


def video_graph(frame: Any, shaping: Shaping, vout: Any) -> Any:
    """Deinterlace, widen anamorphic pixels, turn upright, crop, scale into the box (even
    sides) converting the colour to BT.709 (HDR tone-mapped), 4:2:0, and a constant rate
    from the source's timestamps; sets the encoder's size."""
    import av

    target, crop, sar, fps = shaping.target, shaping.crop, shaping.sar, shaping.fps
    turn = _TURNS.get(int(getattr(frame, "rotation", 0) or 0) % 360)
    # Anamorphic pixels (a 1440x1080 picture shown at 1920x1080) are judged and cropped as
    # shown: the crop box is in shown pixels, so square them first when there is one.
    wide_w = max(2, round(frame.width * sar) // 2 * 2) if sar != 1 else frame.width
    steps: list[tuple[str, str, dict[str, str]]] = []
    if frame.interlaced_frame:
        steps.append(("bwdif", "mode=send_frame:deint=interlaced", {}))
    if sar != 1 and crop is not None:
        steps += [("scale", f"{wide_w}:{frame.height}:flags=lanczos", {}), ("setsar", "1", {})]
    if turn:
        steps.append((*turn, {}))
    shown_w, shown_h = (
        (frame.height, wide_w) if turn and turn[0] == "transpose" else (wide_w, frame.height)
    )
    if crop is not None:
        steps.append(("crop", f"{crop.width}:{crop.height}:{crop.left}:{crop.top}", {}))
        shown_w, shown_h = crop.width, crop.height
    canvas_w, canvas_h = shown_w, shown_h
    if target["pad_ratio"]:
        canvas_w, canvas_h = padded_size(shown_w, shown_h, float(target["pad_ratio"]))
    out_w, out_h = fit_even(canvas_w, canvas_h, target["max_width"], target["max_height"])
    scale = out_w / canvas_w
    picture_w = min(out_w, max(2, round(shown_w * scale) // 2 * 2))
    picture_h = min(out_h, max(2, round(shown_h * scale) // 2 * 2))
    # Lanczos when resizing; when only converting, bicubic (it only upsamples the chroma,
    # and swscale slices it over the graph's threads: 2 ms a 1080p frame against 8).
    resizes = (picture_w, picture_h) != (shown_w, shown_h)
    size = f"{picture_w}:{picture_h}:flags={'lanczos' if resizes else 'bicubic'}"
    steps += _colour_steps(frame, size)
    steps.append(("setsar", "1", {}))
    if (picture_w, picture_h) != (out_w, out_h):
        steps.append(("pad", f"{out_w}:{out_h}:(ow-iw)/2:(oh-ih)/2:black", {}))
    steps.append(("fps", f"fps={fps.numerator}/{fps.denominator}", {}))
    graph = av.filter.Graph()
    graph.threads = min(os.cpu_count() or 1, 4)  # the filters that slice (lut3d) use them
    node = graph.add_buffer(
        width=frame.width,
        height=frame.height,
        format=frame.format,
        time_base=frame.time_base or Fraction(1, 1000),
    )
    for name, argument, options in steps:
        following = graph.add(name, argument or None, **options)
        node.link_to(following)
        node = following
    node.link_to(graph.add("buffersink"))
    graph.configure()
    vout.width, vout.height = out_w, out_h
    return graph


def _colour_steps(frame: Any, size: str) -> list[tuple[str, str, dict[str, str]]]:
    """The scale into the box and the colour conversion: whatever the source is (HDR10,
    HLG, BT.2020, Display P3, full range, BT.601, RGB), the picture comes out BT.709
    limited range 4:2:0, as the tags `_tag_bt709` writes say. A phone's HDR clip is
    tone-mapped (its reds stay red, its sky blue), not squeezed as if it were SDR, which
    washes it out and turns it brown."""
    rgb = frame.format.name.startswith(("rgb", "bgr", "gbr", "pal", "gray"))
    into = "" if rgb else _matrix_of(frame)
    if rgb or not tonemap.needs_mapping(frame):
        return [
            ("scale", f"{size}:out_color_matrix=bt709:out_range=tv{into}", {}),
            ("format", "yuv420p", {}),
        ]
    lut = tonemap.lut_for(frame)
    return [
        ("scale", f"{size}:out_range=pc{into}", {}),  # to R'G'B' as the source has it
        ("format", "gbrp16le", {}),
        ("lut3d", "", {"file": str(lut), "interp": "tetrahedral"}),
        ("setparams", "color_primaries=bt709:color_trc=bt709:colorspace=gbr:range=pc", {}),
        ("scale", "out_color_matrix=bt709:out_range=tv", {}),
        ("format", "yuv420p", {}),
    ]


def _matrix_of(frame: Any) -> str:
    """Untagged YUV is read as players read it: BT.709 when HD, BT.601 below."""
    if int(frame.colorspace or 2) != 2:
        return ""
    return ":in_color_matrix=" + ("bt709" if frame.height >= 720 else "bt601")


def fit_even(width: int, height: int, max_w: int | None, max_h: int | None) -> tuple[int, int]:
    """Sides scaled down into the box (never up), each even as 4:2:0 needs."""
    scale = min(1.0, (max_w / width) if max_w else 1.0, (max_h / height) if max_h else 1.0)
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)
