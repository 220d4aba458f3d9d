"""Making variant files, on a real local store with real libvips work: a file the bytes
cannot give is left out and the rest are kept; nothing is left in the store that no
variant owns."""

from __future__ import annotations

from pathlib import Path

import pyvips

from medialib.config import Settings
from medialib.media.derivatives import Original
from medialib.platforms.variants import Aspect, ImageSpec
from medialib.storage.local import LocalObjectStore
from medialib.storage.signing import SigningKeys
from medialib.variants.files import Source, make_variant_files


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
