"""Readiness per network is a stored fact: each media says which networks it can go out to
now (as itself or by a current variant), `ready_for=` filters by it, it drops what stale
variants served and comes back when they are made again, and media from before it was
kept get it by the housekeeping backfill."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import null, update

from medialib.db import session_scope
from medialib.media.models import Media
from medialib.variants import readiness
from tests import mediafiles
from tests.conftest import RunningServer
from tests.helpers import error_of, eventually, get_media, upload_file, wait_settled, wait_variants


def _settled_readiness(api: httpx.Client, media_id: str) -> dict[str, Any]:
    return eventually(
        lambda: get_media(api, media_id),
        lambda media: media["ready_for"] is not None,
        timeout=60,
        what="its readiness",
    )


def _plan_sends(api: httpx.Client, media: dict[str, Any]) -> set[str]:
    """The networks the plan would send a file to, from the per-network verdicts."""
    answer = wait_variants(api, media["id"], timeout=90)
    made = {network for variant in answer["variants"] for network in variant["platforms"]}
    return {
        p["platform"]
        for p in answer["platforms"]
        if p["verdict"] == "green" or (p["verdict"] == "amber" and p["platform"] in made)
    }


def test_each_media_says_where_it_can_go_and_the_list_filters_by_it(
    api: httpx.Client, files: Path, tmp_path: Path
) -> None:
    photo = wait_settled(
        api, upload_file(api, mediafiles.jpeg(tmp_path / "p.jpg", 1600, 1200))["id"]
    )
    song = wait_settled(api, upload_file(api, files / "tone.mp3")["id"])
    photo = _settled_readiness(api, photo["id"])
    song = _settled_readiness(api, song["id"])
    assert set(photo["ready_for"]) == _plan_sends(api, photo)
    assert "instagram" in photo["ready_for"] and "x" in photo["ready_for"]
    assert "x" not in song["ready_for"] and "mastodon" in song["ready_for"]

    def listed(network: str) -> set[str]:
        answer = api.get("/v1/media", params={"ready_for": network})
        assert answer.status_code == 200, answer.text
        return {media["id"] for media in answer.json()["data"]}

    assert listed("x") == {photo["id"]}
    assert listed("mastodon") == {photo["id"], song["id"]}
    assert listed("youtube") == set()
    unknown = api.get("/v1/media", params={"ready_for": "myspace"})
    assert unknown.status_code == 422 and "myspace" in error_of(unknown)["message"]


def test_stale_variants_stop_counting_until_they_are_made_again(
    api: httpx.Client, tmp_path: Path
) -> None:
    wide = mediafiles.jpeg(tmp_path / "wide.jpg", 2400, 1000)  # Instagram needs a crop
    media = _settled_readiness(api, wait_settled(api, upload_file(api, wide)["id"])["id"])
    assert "instagram" in media["ready_for"]
    changed = api.patch(f"/v1/media/{media['id']}", json={"framing": {"fit": "pad"}})
    assert changed.status_code == 200, changed.text
    again = eventually(
        lambda: get_media(api, media["id"]),
        lambda m: m["ready_for"] is not None and "instagram" in m["ready_for"],
        timeout=60,
        what="Instagram's padded variant",
    )
    assert set(again["ready_for"]) == _plan_sends(api, again)


def test_media_from_before_readiness_was_kept_get_it_by_the_backfill(
    server: RunningServer, api: httpx.Client, files: Path
) -> None:
    media = _settled_readiness(
        api, wait_settled(api, upload_file(api, files / "photo.jpg")["id"])["id"]
    )
    factory = server.state.runtime.session_factory
    with session_scope(factory) as session:  # as a row from before migration 0019 is
        session.execute(update(Media).where(Media.id == media["id"]).values(ready_for=null()))
    assert get_media(api, media["id"])["ready_for"] is None
    assert readiness.backfill(factory) >= 1
    assert get_media(api, media["id"])["ready_for"] == media["ready_for"]
