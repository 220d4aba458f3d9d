"""Making variant files, on a real local store with real libvips work: a file the bytes
cannot give is left out and the rest are kept; nothing is left in the store that no
variant owns."""

from __future__ import annotations

from pathlib import Path

import pyvips

from medialib.config import Settings
from medialib.media.derivatives import Original
from medialib.platforms.variants import ImageSpec
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
