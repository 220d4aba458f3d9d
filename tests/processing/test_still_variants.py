"""Still variants of one picture as a job makes them: decoded once, each capped file found
in at most two encodes once the picture's curve is known, every file under its cap."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pyvips

from medialib.processing import image_variants


def _photo(path: Path, width: int, height: int, detail: float) -> Path:
    noise = pyvips.Image.gaussnoise(width, height, sigma=detail, mean=128)
    rgb = noise.bandjoin([noise.rot180(), noise.fliphor()]).cast("uchar")
    rgb.copy(interpretation="srgb").jpegsave(str(path), Q=92)
    return path


@pytest.mark.parametrize("detail", [8.0, 30.0, 60.0])
def test_a_jobs_capped_stills_cost_at_most_two_encodes_each_and_one_decode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, detail: float
) -> None:
    photo = _photo(tmp_path / "photo.jpg", 4000, 3000, detail)
    encodes: list[tuple[int, int]] = []
    decodes: list[float] = []
    real_encode, real_thumbnail = image_variants._encode, pyvips.Image.thumbnail

    def counted_encode(image: Any, fmt: str, quality: int) -> bytes:
        encodes.append((image.width, quality))
        return real_encode(image, fmt, quality)

    def counted_thumbnail(*args: Any, **kwargs: Any) -> Any:
        decodes.append(1.0)
        return real_thumbnail(*args, **kwargs)

    # Counted, not replaced: the real encoder and decoder run.
    monkeypatch.setattr(image_variants, "_encode", counted_encode)
    monkeypatch.setattr(pyvips.Image, "thumbnail", staticmethod(counted_thumbnail))
    decoded = image_variants.Decoded(photo, 4000, 3000)
    curve = image_variants.SizeCurve()
    caps = [(None, 2_000_000), (4096, 1_000_000), (2048, 600_000), (1600, 300_000)]
    for number, (box, cap) in enumerate(caps):
        folder = tmp_path / str(number)
        folder.mkdir()
        before = len(encodes)
        made = image_variants.render_variant(
            decoded, folder, width=4000, height=3000, fmt="jpeg",
            max_width=box, max_height=box, max_bytes=cap, curve=curve,
        )  # fmt: skip
        assert made.path.stat().st_size <= cap
        spent = len(encodes) - before
        # The first variant knows nothing of the picture yet: three encodes at most.
        assert spent <= (3 if number == 0 else 2), (number, encodes[before:])
    assert len(decodes) == 1  # one decode for every variant
