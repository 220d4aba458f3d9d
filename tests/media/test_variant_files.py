"""Making variant files, on a real local store with real libvips work: a file the bytes
cannot give is left out and the rest are kept; nothing is left in the store that no
variant owns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pyvips

from medialib.config import Settings
from medialib.errors import MediaProcessingFailed
from medialib.media.derivatives import Original
from medialib.platforms.variants import Aspect, ImageSpec, VideoSpec
from medialib.processing import remux, transcode
from medialib.storage.local import LocalObjectStore
from medialib.storage.signing import SigningKeys
from medialib.variants.files import Source, make_variant_files
from tests import mediacheck
from tests.mediafiles import ffmpeg_clip


def _stored_files(root: Path) -> set[str]:
    return {
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and not {".meta", ".tmp"} & set(p.relative_to(root).parts)
    }


def test_a_variant_that_cannot_be_made_leaves_the_others(tmp_path: Path) -> None:
    store = LocalObjectStore(
        tmp_path / "objects",
        signing_keys=SigningKeys.load_or_create(tmp_path),
        public_base_url="http://127.0.0.1:9",
    )
    key = "ws_1/med_1/token/original"
    picture = tmp_path / "picture.png"
    noise = pyvips.Image.gaussnoise(1200, 800, mean=128, sigma=40).cast("uchar")
    noise.bandjoin([noise, noise]).copy(interpretation="srgb").pngsave(str(picture))
    writer = store.open_writer(key, content_type="image/png", max_bytes=10**8)
    writer.write(picture.read_bytes())
    writer.commit()
    source = Source(
        original=Original(
            media_id="med_1", kind="image", storage_key=key, content_type="image/png"
        ),
        width=1200,
        height=800,
    )
    possible = ImageSpec(format="jpeg", max_width=600, max_bytes=400_000)
    impossible = ImageSpec(format="jpeg", max_width=600, max_bytes=60)  # no JPEG is 60 bytes
    made = make_variant_files(
        store,
        Settings(data_dir=tmp_path / "data"),
        source,
        {possible: ["x"], impossible: ["bluesky"]},
    )
    assert [v.platforms for v in made] == [("x",)]
    assert made[0].size <= 400_000 and made[0].width == 600
    assert _stored_files(tmp_path / "objects") == {key, made[0].key}


def test_a_crop_to_a_range_s_end_lands_inside_it_to_the_pixel(tmp_path: Path) -> None:
    """Cuts and resizes round: whatever the source's sides, a variant made for Instagram's
    4:5 minimum (or 1.91:1 maximum) is inside the range, never 0.7998."""
    store = LocalObjectStore(
        tmp_path / "objects",
        signing_keys=SigningKeys.load_or_create(tmp_path),
        public_base_url="http://127.0.0.1:9",
    )
    sizes = [(1003, 1501), (997, 1333), (1201, 1999), (3000, 1001), (2999, 997)]
    for number, (width, height) in enumerate(sizes):
        key = f"ws_1/med_{number}/token/original"
        picture = tmp_path / f"p{number}.jpg"
        noise = pyvips.Image.gaussnoise(width, height, mean=128, sigma=30).cast("uchar")
        noise.bandjoin([noise, noise]).copy(interpretation="srgb").jpegsave(str(picture))
        writer = store.open_writer(key, content_type="image/jpeg", max_bytes=10**8)
        writer.write(picture.read_bytes())
        writer.commit()
        source = Source(
            original=Original(f"med_{number}", "image", key, "image/jpeg"),
            width=width,
            height=height,
        )
        spec = ImageSpec(
            format="jpeg",
            max_width=1080,
            max_bytes=8_000_000,
            aspect=Aspect(low=0.8, high=1.91, fit="crop"),
        )
        [made] = make_variant_files(
            store, Settings(data_dir=tmp_path / "d"), source, {spec: ["instagram"]}
        )
        ratio = made.width / made.height
        assert 0.8 <= ratio <= 1.91, (width, height, made.width, made.height)
        image = pyvips.Image.new_from_file(str(store.file_path(made.key)))
        assert (image.width, image.height) == (made.width, made.height)


def test_a_file_only_repackaged_for_several_networks_is_remuxed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Remux specs that name different boxes (LinkedIn's 1920², Threads' 1920 wide, none)
    get the same streams in the same MP4: the streams are copied once and that one file
    serves every network whose bounds it is within (the remux is counted by wrapping the
    real one; the work itself is real)."""
    store = LocalObjectStore(
        tmp_path / "objects",
        signing_keys=SigningKeys.load_or_create(tmp_path),
        public_base_url="http://127.0.0.1:9",
    )
    clip = ffmpeg_clip(
        tmp_path / "phone.mov", "-c:v", "libx264", "-c:a", "aac", "-f", "mov", seconds=1.0
    )
    key = "ws_1/med_1/token/original"
    writer = store.open_writer(key, content_type="video/quicktime", max_bytes=10**8)
    writer.write(clip.read_bytes())
    writer.commit()
    runs: list[Path] = []
    real = remux.remux_mp4

    def counted(source: Path, *args: Any, **kwargs: Any) -> Any:
        runs.append(source)
        return real(source, *args, **kwargs)

    monkeypatch.setattr(remux, "remux_mp4", counted)
    source = Source(
        original=Original("med_1", "video", key, "video/quicktime", 1000), width=320, height=240
    )
    specs = {
        VideoSpec(method="remux", max_bytes=300_000_000): ["bluesky"],
        VideoSpec(method="remux", max_width=1920, max_bytes=10**9, max_fps=60.0): ["threads"],
        VideoSpec(method="remux", max_width=1920, max_height=1920, max_fps=30.0): ["linkedin"],
    }
    made = make_variant_files(store, Settings(data_dir=tmp_path / "data"), source, specs)
    assert len(runs) == 1
    assert [sorted(v.platforms) for v in made] == [["bluesky", "linkedin", "threads"]]
    assert made[0].method == "remux" and made[0].content_type == "video/mp4"
    assert _stored_files(tmp_path / "objects") == {key, made[0].key}


def test_the_encodes_after_the_first_are_made_from_one_decode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first encode is made alone (a file it serves is not made again); every encode
    still needed after it comes from one decode of the source, each with its own size,
    rate and cap, and each file is whole (the calls are counted by wrapping the real
    functions; the work itself is real). What was made ahead but not kept stays out of
    the store."""
    store = LocalObjectStore(
        tmp_path / "objects",
        signing_keys=SigningKeys.load_or_create(tmp_path),
        public_base_url="http://127.0.0.1:9",
    )
    clip = ffmpeg_clip(
        tmp_path / "clip.mp4", "-c:v", "libx264", "-crf", "12", seconds=2.0, size="1280x720"
    )
    key = "ws_1/med_1/token/original"
    writer = store.open_writer(key, content_type="video/mp4", max_bytes=10**8)
    writer.write(clip.read_bytes())
    writer.commit()
    alone: list[Any] = []
    together: list[list[Any]] = []
    real_alone, real_together = transcode.encode_mp4, transcode.encode_mp4_together

    def counted_alone(*args: Any, **kwargs: Any) -> Any:
        alone.append(args[3])
        return real_alone(*args, **kwargs)

    def counted_together(source: Path, mime: str, encodings: list[Any], **kwargs: Any) -> Any:
        together.append([e.target for e in encodings])
        return real_together(source, mime, encodings, **kwargs)

    monkeypatch.setattr(transcode, "encode_mp4", counted_alone)
    monkeypatch.setattr(transcode, "encode_mp4_together", counted_together)
    source = Source(
        original=Original("med_1", "video", key, "video/mp4", 2000), width=1280, height=720
    )
    specs = {
        VideoSpec(): ["first"],
        VideoSpec(max_width=320): ["small"],
        VideoSpec(max_fps=15.0, max_width=480): ["slow"],
        VideoSpec(max_bytes=150_000): ["capped"],
    }
    made = make_variant_files(store, Settings(data_dir=tmp_path / "data"), source, specs)
    assert len(alone) == 1 and alone[0].max_width is None  # the most permissive, alone
    # (encode_mp4 is encode_mp4_together of one file)
    assert [len(targets) for targets in together] == [1, 3]  # the other three: one decode
    shapes = {v.platforms[0]: (v.width, v.fps, v.size) for v in made}
    assert shapes["first"][:2] == (1280, 30.0) and shapes["small"][:2] == (320, 30.0)
    assert shapes["slow"][:2] == (480, 15.0) and shapes["capped"][2] <= 150_000
    for variant in made:
        assert mediacheck.clip(store.path_for(variant.key)).seconds == pytest.approx(2.0, abs=0.1)
    assert _stored_files(tmp_path / "objects") == {key, *(v.key for v in made)}


def test_when_encoding_together_fails_each_file_is_made_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure of the shared child (injected here: it stands for one that ran out of
    memory with several encoders) costs time, not files."""
    store = LocalObjectStore(
        tmp_path / "objects",
        signing_keys=SigningKeys.load_or_create(tmp_path),
        public_base_url="http://127.0.0.1:9",
    )
    clip = ffmpeg_clip(tmp_path / "clip.mp4", "-c:v", "libx264", seconds=1.0, size="640x480")
    key = "ws_1/med_1/token/original"
    writer = store.open_writer(key, content_type="video/mp4", max_bytes=10**8)
    writer.write(clip.read_bytes())
    writer.commit()
    real_together = transcode.encode_mp4_together

    def failing_when_several(source: Path, mime: str, encodings: list[Any], **kwargs: Any) -> Any:
        if len(encodings) > 1:
            raise MediaProcessingFailed("The video could not be converted.")
        return real_together(source, mime, encodings, **kwargs)

    monkeypatch.setattr(transcode, "encode_mp4_together", failing_when_several)
    source = Source(
        original=Original("med_1", "video", key, "video/mp4", 1000), width=640, height=480
    )
    specs = {VideoSpec(): ["a"], VideoSpec(max_width=320): ["b"], VideoSpec(max_width=160): ["c"]}
    made = make_variant_files(store, Settings(data_dir=tmp_path / "data"), source, specs)
    assert sorted((v.platforms[0], v.width) for v in made) == [("a", 640), ("b", 320), ("c", 160)]
