"""The files of one encode job, made in the encoding child (see transcode.py) from one
decode of the source: each output has its own filter graph, x264 and AAC encoders and
muxer; the decoded pictures are pushed into every output's graph (a buffer source takes
a reference, not the frame) and the sound is resampled once for all. Decoding and
filtering run in a thread of their own, a few items ahead of the encoders, as the
`ffmpeg` CLI pipelines them.
"""

from __future__ import annotations

import queue
import threading
from fractions import Fraction
from typing import TYPE_CHECKING, Any, TypeVar

from medialib.processing.framing import Box
from medialib.processing.remux import made_facts
from medialib.processing.video_graph import Shaping, tag_bt709, video_graph

if TYPE_CHECKING:
    from collections.abc import Iterator

_Item = TypeVar("_Item")
AUDIO_RATE = 48_000
AUDIO_BITS = 128_000
# The rates a made file keeps: a source near one of them (a variable-rate clip averages
# 29.87) is made at it exactly.
_COMMON_RATES = (
    Fraction(24000, 1001),
    Fraction(24),
    Fraction(25),
    Fraction(30000, 1001),
    Fraction(30),
    Fraction(48),
    Fraction(50),
    Fraction(60000, 1001),
    Fraction(60),
)


class Output:
    """One MP4 being made: its graph, encoders and muxer, and what it has had so far."""

    def __init__(
        self, container: Any, spec: dict[str, Any], rate: Fraction, has_audio: bool, sar: Fraction
    ) -> None:
        target = spec["target"]
        self.container, self.path = container, str(spec["out"])
        self.fps = output_rate(rate, target["min_fps"], target["max_fps"])
        vout = container.add_stream("libx264", rate=self.fps)
        # Frame threads, as the ffmpeg CLI gives x264: PyAV's default (slice threads) cuts
        # each picture into slices instead, slower on the same cores.
        vout.thread_type = "AUTO"
        vout.pix_fmt = "yuv420p"
        tag_bt709(vout.codec_context)
        vout.options = dict(x264_options(self.fps, spec["video_bits"], spec["rate_control"]))
        if spec["video_bits"] and spec["rate_control"] == "average":
            vout.bit_rate = int(spec["video_bits"])
        self.vout = vout
        self.aout: Any = None
        if has_audio and target["audio"]:
            self.aout = container.add_stream("aac", rate=AUDIO_RATE)
            self.aout.layout = "stereo"
            self.aout.bit_rate = AUDIO_BITS
        crop = Box(**target["crop"]) if target["crop"] else None
        self.shaping = Shaping(self.fps, target, crop, sar)
        self.graph: Any = None
        self.frames = self.samples = 0
        self.held: list[Any] = []  # sound before the first picture: the muxer waits for it

    def filtered(self, frame: Any) -> Iterator[Any]:
        """A decoded picture through this output's graph (None: the end)."""
        if frame is None and self.graph is None:
            return
        if self.graph is None:
            self.graph = video_graph(frame, self.shaping, self.vout)
        self.graph.push(frame)
        yield from self._pulled()

    def _pulled(self) -> Iterator[Any]:
        import av

        while True:
            try:
                yield self.graph.pull()
            except (av.error.BlockingIOError, av.error.EOFError):
                return

    def picture(self, picture: Any) -> None:
        import av

        picture.pict_type = av.video.frame.PictureType.NONE
        self.frames += 1
        self.container.mux(self.vout.encode(picture))
        for packets in self.held:
            self.container.mux(packets)
        self.held.clear()

    def sound(self, chunk: Any) -> None:
        """A resampled chunk of sound (every output gets the same), if this one keeps it."""
        if self.aout is None:
            return
        chunk.pts, chunk.time_base = self.samples, Fraction(1, AUDIO_RATE)
        self.samples += chunk.samples
        encoded = self.aout.encode(chunk)
        if self.frames == 0:
            self.held.append(encoded)
        else:
            self.container.mux(encoded)

    def finish(self) -> None:
        self.container.mux(self.vout.encode(None))
        if self.aout is not None:
            self.container.mux(self.aout.encode(None))

    def facts(self) -> dict[str, Any]:
        """What was made (once the container is closed and the file whole)."""
        width, height = self.vout.width, self.vout.height
        return made_facts(self.path, width, height, self.fps, self.frames, "encode")


def encode_outputs(outputs: list[Output], items: Iterator[tuple[str, Any]]) -> None:
    """Every decoded picture into every output, the sound resampled once and encoded by
    each output that keeps it. A source without a decodable picture makes nothing."""
    import av

    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE)
    for index, frame in _ahead(_filtered(items, outputs), depth=8):
        if index is None:
            for chunk in resampler.resample(frame):
                for output in outputs:
                    output.sound(chunk)
        else:
            outputs[index].picture(frame)
    if any(output.frames == 0 for output in outputs):
        raise SystemExit("the video has no decodable frame")
    for chunk in resampler.resample(None):
        for output in outputs:
            output.sound(chunk)
    for output in outputs:
        output.finish()


def _filtered(
    items: Iterator[tuple[str, Any]], outputs: list[Output]
) -> Iterator[tuple[int | None, Any]]:
    """The decoded items in order, each picture through every output's graph: (the
    output's index, a picture) or (None, a piece of sound)."""
    for kind, frame in items:
        if kind == "audio":
            yield None, frame
            continue
        for index, output in enumerate(outputs):
            for picture in output.filtered(frame):
                yield index, picture
    for index, output in enumerate(outputs):
        for picture in output.filtered(None):
            yield index, picture


def _ahead(source: Iterator[_Item], *, depth: int) -> Iterator[_Item]:
    """`source` run in a thread of its own, at most `depth` items ahead: decoding and
    filtering go on while x264 encodes (PyAV lets go of the GIL inside FFmpeg), as the
    `ffmpeg` CLI pipelines them. 1080p HDR to SDR: 8.0 s one after the other, 6.7 s so."""
    ahead: queue.Queue[tuple[bool, Any]] = queue.Queue(depth)

    def produce() -> None:
        try:
            for item in source:
                ahead.put((True, item))
            ahead.put((False, None))
        except BaseException as exc:  # the encoding side raises it as its own
            ahead.put((False, exc))

    # A daemon: if encoding fails, the child exits and takes the blocked producer with it.
    threading.Thread(target=produce, name="decode-filter", daemon=True).start()
    while True:
        more, item = ahead.get()
        if not more:
            if item is not None:
                raise item
            return
        yield item


def x264_options(fps: Fraction, video_bits: int | None, rate_control: str) -> dict[str, object]:
    gop = str(max(1, round(float(fps) * 2)))
    options: dict[str, object] = {
        "preset": "veryfast",
        "profile": "high",
        "g": gop,
        "keyint_min": gop,
    }
    if video_bits is None:
        options["crf"] = "23"
    elif rate_control == "capped":
        options.update(crf="23", maxrate=str(video_bits), bufsize=str(video_bits))
    else:
        options.update(maxrate=str(video_bits), bufsize=str(video_bits * 2))
    return options


def output_rate(rate: Fraction, least: float | None, most: float | None) -> Fraction:
    """The constant rate a made file plays at: the source's (snapped to a common rate when
    near one), lowered to a network's maximum, raised to the first common rate at or above
    its minimum."""
    rate = _snap(rate)
    if most and float(rate) > most + 1e-6:
        rate = max((r for r in _COMMON_RATES if float(r) <= most + 1e-6), default=Fraction(most))
    if least and float(rate) < least - 1e-6:
        rate = min((r for r in _COMMON_RATES if float(r) >= least - 1e-6), default=Fraction(least))
    return rate


def _snap(rate: Fraction) -> Fraction:
    if rate <= 0:
        return Fraction(30)
    near = min(_COMMON_RATES, key=lambda common: abs(float(common) - float(rate)))
    if abs(float(near) - float(rate)) / float(near) < 0.03:
        return near
    return Fraction(max(1, round(float(rate))))
