"""Real media files made by the tests themselves (libvips for images, FFmpeg via PyAV)."""

from __future__ import annotations

import io
import struct
import subprocess
import zipfile
import zlib
from fractions import Fraction
from pathlib import Path

import av
import pyvips


def jpeg(path: Path, width: int = 64, height: int = 48, *, orientation: int | None = None) -> Path:
    image = (pyvips.Image.black(width, height, bands=3) + [200, 80, 40]).cast("uchar")  # noqa: RUF005  (pixel arithmetic, not a list)
    if orientation is not None:
        image = image.copy()
        image.set_type(pyvips.GValue.gint_type, "orientation", orientation)
    image.jpegsave(str(path))
    return path


def noisy_jpeg(path: Path, width: int = 1600, height: int = 1200) -> Path:
    """A JPEG of several MB (noise does not compress), for uploads sent in pieces."""
    noise = pyvips.Image.gaussnoise(width, height, mean=128, sigma=60)
    image = noise.bandjoin([noise.rot180(), noise.fliphor()]).cast("uchar")
    image.copy(interpretation="srgb").jpegsave(str(path), Q=98)
    return path


def jpeg_with_gps(path: Path, width: int = 64, height: int = 48, *, orientation: int = 6) -> Path:
    """A JPEG carrying EXIF orientation and a GPS position (Pillow writes both)."""
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)})
    Image.new("RGB", (width, height), (200, 10, 10)).save(path, exif=exif)
    return path


def heic(path: Path, width: int = 64, height: int = 48) -> Path:
    import pillow_heif
    from PIL import Image

    pillow_heif.register_heif_opener()
    Image.new("RGB", (width, height), (10, 200, 10)).save(path, format="HEIF", quality=60)
    return path


def png(path: Path, width: int = 64, height: int = 48, *, alpha: bool = False) -> Path:
    image = (pyvips.Image.black(width, height, bands=4 if alpha else 3) + 120).cast("uchar")
    if alpha:
        image = image.copy(interpretation="srgb")
    image.pngsave(str(path))
    return path


def webp(path: Path, width: int = 64, height: int = 48) -> Path:
    (pyvips.Image.black(width, height, bands=3) + 90).cast("uchar").webpsave(str(path))
    return path


def gif(path: Path, width: int = 32, height: int = 32, *, frames: int = 3) -> Path:
    pages = [
        (pyvips.Image.black(width, height, bands=3) + 60 * i).cast("uchar") for i in range(frames)
    ]
    strip = pyvips.Image.arrayjoin(pages, across=1).copy()
    strip.set_type(pyvips.GValue.gint_type, "page-height", height)
    strip.gifsave(str(path))
    return path


def animation(
    path: Path, *, width: int = 64, height: int = 48, frames: int = 10, delay_ms: int = 100
) -> Path:
    """An animated GIF or WebP (by the suffix): frames that differ, each shown `delay_ms`."""
    pages = [
        pyvips.Image.black(width, height, bands=3).linear(1, [20 * i % 256, 40, 200 - 15 * i % 200])
        for i in range(frames)
    ]
    strip = pyvips.Image.arrayjoin([page.cast("uchar") for page in pages], across=1).copy()
    strip.set_type(pyvips.GValue.gint_type, "page-height", height)
    strip.set_type(pyvips.GValue.array_int_type, "delay", [delay_ms] * frames)
    strip.write_to_file(str(path))
    return path


def variable_rate_webm(path: Path, *, seconds: float = 3.0) -> Path:
    """A VP9 WebM whose frames come 20 ms and 46 ms apart in turn (33 ms on average), as
    phone and screen recordings do: a converter that assumes a constant rate gets it wrong."""
    output = av.open(str(path), "w", format="webm")
    stream = output.add_stream("libvpx-vp9", rate=30)
    stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
    stream.codec_context.time_base = Fraction(1, 1000)
    at_ms, index = 0, 0
    while at_ms < seconds * 1000:
        frame = av.VideoFrame(160, 120, "yuv420p")
        for plane in frame.planes:
            plane.update(bytes([index * 7 % 256]) * plane.buffer_size)
        frame.pts, frame.time_base = at_ms, Fraction(1, 1000)
        output.mux(stream.encode(frame))
        at_ms += 20 if index % 2 else 46
        index += 1
    output.mux(stream.encode(None))
    output.close()
    return path


def ffmpeg_clip(
    path: Path, *arguments: str, seconds: float = 1.0, size: str = "320x240", rate: float = 30
) -> Path:
    """A clip made by the FFmpeg CLI from its test pattern, with `arguments` for the output
    (interlaced, 4:4:4, HEVC, 15 fps ...): what the library here cannot make itself."""
    subprocess.run(
        [
            ffmpeg(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size={size}:rate={rate}:duration={seconds}",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:duration={seconds}",
            *arguments,
            str(path),
        ],
        check=True,
    )
    return path


def apng(path: Path, *, size: str = "64x48", frames: int = 10) -> Path:
    """An animated PNG, made by FFmpeg's APNG muxer (libvips reads only its first frame)."""
    subprocess.run(
        [
            ffmpeg(),
            *("-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i"),
            f"testsrc=size={size}:rate=10:duration={frames / 10}",
            *("-plays", "0", "-f", "apng", str(path)),
        ],
        check=True,
    )
    return path


HDR_TRANSFERS = {"pq": "smpte2084", "hlg": "arib-std-b67"}


def hdr_clip(
    path: Path,
    transfer: str = "pq",
    *,
    colour: str = "0xC02010",
    seconds: float = 1.0,
    size: str = "320x180",
    rate: float = 24,
) -> Path:
    """A phone's HDR clip, as phones tag it: HEVC 10-bit, BT.2020 primaries, PQ (HDR10) or
    HLG transfer, of one SDR `colour` mapped into HDR by zscale (diffuse white at 203 nits,
    as BT.2408 says), so a correct tone map gives the colour back."""
    name = HDR_TRANSFERS[transfer]
    subprocess.run(
        [
            ffmpeg(),
            *("-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i"),
            f"color=c={colour}:size={size}:rate={rate}:duration={seconds},format=gbrpf32le",
            "-vf",
            f"zscale=tin=bt709:pin=bt709:min=gbr:rin=full:t={name}:p=bt2020:m=bt2020nc"
            ":r=tv:npl=203,format=yuv420p10le",
            *("-c:v", "libx265", "-x265-params", "log-level=error", "-tag:v", "hvc1"),
            *("-color_primaries", "bt2020", "-color_trc", name, "-colorspace", "bt2020nc"),
            *("-color_range", "tv", str(path)),
        ],
        check=True,
    )
    return path


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png_bomb(path: Path, width: int = 50_000, height: int = 50_000) -> Path:
    """A tiny PNG whose header declares a huge canvas (pixels never supplied)."""
    chunk = _png_chunk
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )
    return path


def png_with_broken_pixels(path: Path, width: int = 64, height: int = 48) -> Path:
    """A sound PNG header over compressed data that is not an image."""
    chunk = _png_chunk
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", b"\x78\x9c" + bytes(range(200)))
        + chunk(b"IEND", b"")
    )
    return path


def video(
    path: Path,
    *,
    seconds: float = 1.0,
    width: int = 160,
    height: int = 120,
    fps: int = 25,
    audio: bool = True,
    container: str | None = None,
    codec: str = "libx264",
    split: bool = False,
) -> Path:
    """A real encoded clip: moving gray frames (or, with `split`, a white left half and a
    black right half, to tell orientation apart), and a tone when `audio`."""
    output = av.open(str(path), "w", format=container)
    stream = output.add_stream(codec, rate=fps)
    stream.width, stream.height = width, height
    stream.pix_fmt = "yuv420p"
    audio_codec = {"libx264": "aac", "libvpx-vp9": "libopus"}.get(codec, "libmp3lame")
    sound = output.add_stream(audio_codec, rate=48000) if audio else None
    for index in range(int(seconds * fps)):
        frame = av.VideoFrame(width, height, "yuv420p")
        for plane_index, plane in enumerate(frame.planes):
            value = (index * 5) % 256 if plane_index == 0 else 128
            if plane_index == 0 and split:
                half = plane.line_size // 2
                row = bytes([235]) * half + bytes([16]) * (plane.line_size - half)
                plane.update(row * (plane.buffer_size // plane.line_size))
            else:
                plane.update(bytes([value]) * plane.buffer_size)
        frame.pts = index
        frame.time_base = Fraction(1, fps)
        output.mux(stream.encode(frame))
    output.mux(stream.encode(None))
    if sound is not None:
        _tone(output, sound, seconds)
    output.close()
    return path


def _tone(output: av.container.OutputContainer, stream: av.stream.Stream, seconds: float) -> None:
    samples_per_frame = 960
    total = int(seconds * 48000)
    for start in range(0, total, samples_per_frame):
        frame = av.AudioFrame(format="s16", layout="mono", samples=samples_per_frame)
        frame.planes[0].update(bytes(samples_per_frame * 2))
        frame.sample_rate = 48000
        frame.pts = start
        output.mux(stream.encode(frame))
    output.mux(stream.encode(None))


def audio(
    path: Path, *, seconds: float = 1.0, codec: str = "aac", container: str | None = None
) -> Path:
    output = av.open(str(path), "w", format=container)
    stream = output.add_stream(codec, rate=48000)
    _tone(output, stream, seconds)
    output.close()
    return path


def wav(path: Path, *, seconds: float = 1.0) -> Path:
    return audio(path, seconds=seconds, codec="pcm_s16le", container="wav")


def pdf(path: Path, pages: int = 3) -> Path:
    """A small valid PDF with `pages` empty pages."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{3 + i} 0 R" for i in range(pages))
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>")
    objects += ["<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"] * pages
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n{body}\nendobj\n".encode())
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    path.write_bytes(out.getvalue())
    return path


def rotated(source: Path, path: Path, *, degrees: int = 90) -> Path:
    """A copy of a clip carrying a display rotation (what phones record), by FFmpeg 9."""
    subprocess.run(
        [
            ffmpeg(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-display_rotation",
            str(degrees),
            "-i",
            str(source),
            "-c",
            "copy",
            str(path),
        ],
        check=True,
    )
    return path


def ffmpeg() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def pptx(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("ppt/presentation.xml", "<presentation/>")
    return path


def docx(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr("word/document.xml", "<document/>")
    return path


def random_bytes(path: Path, size: int, *, seed: int = 1) -> Path:
    import random

    generator = random.Random(seed)
    with path.open("wb") as handle:
        remaining = size
        while remaining:
            block = min(remaining, 1024 * 1024)
            handle.write(generator.randbytes(block))
            remaining -= block
    return path
