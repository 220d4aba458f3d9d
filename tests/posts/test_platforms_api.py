"""GET /v1/platforms over real HTTP: every network of the data file with its forms and
limits, as the data file says, and a conditional GET on the rules' version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import yaml

from medialib.platforms import rules
from tests.conftest import RunningServer
from tests.helpers import error_of

DATA: dict[str, Any] = yaml.safe_load((Path(rules.__file__).parent / "platforms.yaml").read_text())


def test_every_network_comes_with_its_forms_and_limits(api: httpx.Client) -> None:
    answer = api.get("/v1/platforms")
    assert answer.status_code == 200
    body = answer.json()
    networks = {n["id"]: n for n in body["data"]}
    assert set(networks) == {name for name in DATA if not name.startswith("_")}
    assert networks["x"]["name"] == "X" and networks["linkedin"]["name"] == "LinkedIn"
    forms = {f["id"]: f for f in networks["instagram"]["forms"]}
    assert (forms["carousel"]["min_items"], forms["carousel"]["max_items"]) == (
        DATA["instagram"]["post"]["carousel"]["min_items"],
        DATA["instagram"]["post"]["carousel"]["max_items"],
    )
    assert forms["carousel"]["mix"] is True
    feed_image = forms["feed"]["media"]["image"]["limits"]
    assert feed_image["max_bytes"] == DATA["instagram"]["feed_image"]["max_file_bytes"]
    assert feed_image["formats"] == ["jpeg"] and "min_width" in feed_image["soft"]
    bluesky = {f["id"]: f for f in networks["bluesky"]["forms"]}
    assert (
        bluesky["images"]["media"]["image"]["limits"]["max_bytes"]
        == (DATA["bluesky"]["image"]["max_file_bytes"])
    )
    assert any(
        kind["send_as"] == "video" for form in bluesky.values() for kind in form["media"].values()
    )
    x_post = networks["x"]["forms"][0]
    assert x_post["alone"] == ["gif", "video"] and x_post["max_items"] == 4
    telegram = {f["id"]: f for f in networks["telegram"]["forms"]}
    assert telegram["album"]["caption_max_chars"] == DATA["telegram"]["post"]["caption_max_chars"]


def test_the_answer_is_cached_until_the_rules_change(api: httpx.Client) -> None:
    first = api.get("/v1/platforms")
    tag = first.headers["etag"]
    assert tag.strip('"') == first.json()["version"]
    again = api.get("/v1/platforms", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    assert api.get("/v1/platforms", headers={"If-None-Match": '"other"'}).status_code == 200


def test_the_catalog_needs_a_key(server: RunningServer) -> None:
    answer = httpx.get(f"{server.base_url}/v1/platforms")
    assert answer.status_code == 401 and error_of(answer)["code"] == "unauthorized"
