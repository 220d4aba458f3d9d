"""Animations are media with a play time: a GIF's duration is a fact, a short one is
looped to a video's minimum where it goes out as an MP4, and an APNG is labelled for what
it is and says where its motion is lost."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests import mediacheck, mediafiles
from tests.helpers import upload_file, wait_settled, wait_variants


def test_a_gif_has_a_play_time_and_a_short_one_is_looped_for_reels(
    api: httpx.Client, tmp_path: Path
) -> None:
    gif = mediafiles.animation(tmp_path / "blink.gif", width=480, height=480, frames=12)
    media = wait_settled(api, upload_file(api, gif)["id"])
    assert media["status"] == "ready" and media["duration_ms"] == 1200
    assert media["metadata"]["frames"] == 12 and media["metadata"]["loops"] == 0
    answer = wait_variants(api, media["id"], timeout=120)
    instagram = next(p for p in answer["platforms"] if p["platform"] == "instagram")
    assert (instagram["verdict"], instagram["send_as"]) == ("amber", "video")
    short = next(r for r in instagram["reasons"] if r["code"] == "too_short")
    assert short["fix"] == "convert" and "3 times" in short["message"]
    variant = next(v for v in answer["variants"] if "instagram" in v["platforms"])
    made = tmp_path / "reel.mp4"
    made.write_bytes(httpx.get(variant["url"], timeout=30).content)
    clip = mediacheck.clip(made)
    assert abs(clip.seconds - 3.6) < 0.1, clip.seconds  # three whole plays, none cut
    for network in ("threads", "tiktok", "youtube"):  # video networks take it as video
        verdict = next(p for p in answer["platforms"] if p["platform"] == network)
        assert (verdict["verdict"], verdict["send_as"]) == ("amber", "video"), verdict


def test_an_apng_is_labelled_apng_and_says_where_its_motion_is_lost(
    api: httpx.Client, tmp_path: Path
) -> None:
    path = mediafiles.apng(tmp_path / "spinner.png", frames=10)
    media = wait_settled(api, upload_file(api, path)["id"])
    assert media["status"] == "ready" and media["content_type"] == "image/apng"
    assert media["metadata"]["format"] == "apng" and media["metadata"]["apng_frames"] == 10
    served = httpx.get(media["url"], timeout=30)
    assert served.headers["content-type"] == "image/apng" and served.content == path.read_bytes()
    answer = wait_variants(api, media["id"], timeout=120)
    for network in ("instagram", "tiktok"):
        verdict = next(p for p in answer["platforms"] if p["platform"] == network)
        lost = next(r for r in verdict["reasons"] if r["code"] == "format_not_accepted")
        assert lost["actual"] == "apng" and "animation is lost" in lost["message"], lost
        variant = next(v for v in answer["variants"] if network in v["platforms"])
        assert variant["content_type"] in ("image/jpeg", "image/png")
        still = httpx.get(variant["url"], timeout=30)
        assert still.headers["content-type"] == variant["content_type"]
        assert b"acTL" not in still.content  # a still labelled as one
