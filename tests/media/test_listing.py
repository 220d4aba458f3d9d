"""Listing: filters, search, sort and pagination totals."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import RunningServer, running_server
from tests.helpers import error_of, request_upload, upload_file


def _ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


def test_list_is_newest_first_with_pagination_totals(api: httpx.Client, files: Path) -> None:
    made = [request_upload(api, filename=f"file-{i}.jpg")["id"] for i in range(7)]
    page = api.get("/v1/media", params={"limit": 3}).json()
    assert {k: page["pagination"][k] for k in ("limit", "offset", "total", "total_exact")} == {
        "limit": 3,
        "offset": 0,
        "total": 7,
        "total_exact": True,
    }
    assert [m["id"] for m in page["data"]] == made[::-1][:3]
    last = api.get("/v1/media", params={"limit": 3, "offset": 6}).json()
    assert [m["id"] for m in last["data"]] == [made[0]]
    assert api.get("/v1/media").json()["pagination"]["limit"] == 25


def test_filters_by_kind_status_tag_and_tenant(api: httpx.Client, files: Path) -> None:
    image = upload_file(api, files / "photo.jpg", tags=["red"], tenant_id="acme")
    gif = upload_file(api, files / "anim.gif", tags=["red", "blue"])
    pending = request_upload(api, filename="later.mp4", tags=["blue"])
    assert _ids(api.get("/v1/media", params={"kind": "gif"})) == [gif["id"]]
    assert set(_ids(api.get("/v1/media", params={"status": "ready"}))) == {image["id"], gif["id"]}
    assert _ids(api.get("/v1/media", params={"status": "pending_upload"})) == [pending["id"]]
    assert set(_ids(api.get("/v1/media", params={"tag": "blue"}))) == {gif["id"], pending["id"]}
    assert _ids(api.get("/v1/media", params={"tenant_id": "acme"})) == [image["id"]]
    assert _ids(api.get("/v1/media", params={"tag": "none"})) == []


def test_search_matches_filename_tags_and_description(api: httpx.Client) -> None:
    by_name = request_upload(api, filename="Quarterly-Report.pdf")["id"]
    by_tag = request_upload(api, filename="a.jpg", tags=["quarterly"])["id"]
    by_text = request_upload(api, filename="b.jpg", description="the QUARTERLY numbers")["id"]
    request_upload(api, filename="unrelated.jpg", description="nothing")
    found = api.get("/v1/media", params={"q": "quarterly"}).json()
    assert {m["id"] for m in found["data"]} == {by_name, by_tag, by_text}
    assert found["pagination"]["total"] == 3
    # LIKE wildcards in the query are literal, not patterns
    assert _ids(api.get("/v1/media", params={"q": "b%"})) == []
    assert _ids(api.get("/v1/media", params={"q": "quarter_y"})) == []


def test_sort_by_name_and_created_window(api: httpx.Client) -> None:
    ids = {name: request_upload(api, filename=name)["id"] for name in ("b.jpg", "C.jpg", "a.jpg")}
    by_name = _ids(api.get("/v1/media", params={"sort": "name"}))
    assert by_name == [ids["a.jpg"], ids["b.jpg"], ids["C.jpg"]]
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    assert _ids(api.get("/v1/media", params={"created_after": future})) == []
    assert len(_ids(api.get("/v1/media", params={"created_after": past}))) == 3
    assert _ids(api.get("/v1/media", params={"created_before": past})) == []
    assert len(_ids(api.get("/v1/media", params={"sort": "most_used"}))) == 3


def test_bad_list_parameters_answer_validation_error(api: httpx.Client) -> None:
    for params in (
        {"limit": 0},
        {"limit": 101},
        {"offset": -1},
        {"kind": "spreadsheet"},
        {"status": "weird"},
        {"sort": "random"},
        {"created_after": "yesterday"},
        {"offset": 10_001},
    ):
        response = api.get("/v1/media", params=params)
        assert response.status_code == 422, params
        assert error_of(response)["code"] == "validation_error"
    deep = error_of(api.get("/v1/media", params={"offset": 500_000}))
    assert deep["field"] == "offset" and "next_cursor" in deep["message"]
    assert api.get("/v1/media", params={"offset": 10_000}).status_code == 200


def test_a_search_of_one_or_two_characters_finds_names_beginning_with_them(
    api: httpx.Client,
) -> None:
    for name, tags in (("Beach.jpg", []), ("seabed.jpg", []), ("be.png", []), ("pic.jpg", ["be"])):
        request_upload(api, filename=name, tags=tags)
    found = {m["filename"] for m in api.get("/v1/media", params={"q": "be"}).json()["data"]}
    assert found == {"Beach.jpg", "be.png", "pic.jpg"}  # not seabed: "be" does not begin it
    for literal in ("b%", "b_"):  # wildcards are characters like any other
        answer = api.get("/v1/media", params={"q": literal})
        assert answer.status_code == 200 and answer.json()["data"] == [], literal


def test_a_search_without_a_letter_or_digit_is_refused_plainly(api: httpx.Client) -> None:
    """No index can look punctuation up (PostgreSQL's trigrams skip it): such a search
    would read every row, so it is refused, whatever its length, on both databases."""
    request_upload(api, filename="%_%.jpg")
    for punctuation in ("%", "_", "--", "...", "%%%", "!?", "—"):
        answer = api.get("/v1/media", params={"q": punctuation})
        assert answer.status_code == 422, punctuation
        assert error_of(answer)["field"] == "q"
        assert "letter or digit" in error_of(answer)["message"]
    assert api.get("/v1/media", params={"q": "  "}).status_code == 200  # no search at all
    assert api.get("/v1/media", params={"q": "é"}).status_code == 200  # a letter of any script


def _walk(api: httpx.Client, **params: object) -> tuple[list[str], int]:
    """Every id of a list, following `next_cursor` (and checking the Link header)."""
    seen: list[str] = []
    pages = 0
    answer = api.get("/v1/media", params={**params, "limit": 3})
    while True:
        pages += 1
        seen += _ids(answer)
        following = answer.json()["pagination"]["next_cursor"]
        if following is None:
            assert "link" not in answer.headers
            return seen, pages
        link = answer.headers["link"]
        assert link.endswith('>; rel="next"') and f"cursor={following}" in link
        answer = api.get(link[1 : link.index(">")])  # the Link as given, filters and all


def test_cursors_walk_every_sort_exactly_once(api: httpx.Client) -> None:
    made = [
        request_upload(api, filename=f"{name}.jpg")["id"]
        for name in ("delta", "Alpha", "charlie", "bravo", "echo", "alpha", "foxtrot")
    ]
    api.post("/v1/media/bulk-delete", json={"ids": [made[4]]})  # deleted: never listed
    listed = [m for m in made if m != made[4]]
    for sort in ("recent", "name", "most_used"):
        by_offset = _ids(api.get("/v1/media", params={"sort": sort, "limit": 100}))
        walked, pages = _walk(api, sort=sort)
        assert walked == by_offset and sorted(walked) == sorted(listed), sort
        assert pages == 2
    walked, _ = _walk(api, sort="name", q="a")  # filters hold across pages
    assert walked == _ids(api.get("/v1/media", params={"sort": "name", "q": "a", "limit": 100}))
    # Items added while walking do not shift the pages already cut.
    first = api.get("/v1/media", params={"limit": 3}).json()
    request_upload(api, filename="late.jpg")
    rest = api.get("/v1/media", params={"limit": 100, "cursor": first["pagination"]["next_cursor"]})
    assert [m["id"] for m in first["data"]] + _ids(rest) == listed[::-1]


def test_bad_cursors_are_refused_plainly(api: httpx.Client) -> None:
    for name in ("a", "b", "c"):
        request_upload(api, filename=f"{name}.jpg")
    cursor = api.get("/v1/media", params={"limit": 1}).json()["pagination"]["next_cursor"]
    for params in (
        {"cursor": "not-a-cursor"},
        {"cursor": "eyJ4Ijox"},  # base64 of broken JSON
        {"cursor": cursor, "sort": "name"},  # made for another sort
        {"cursor": cursor, "offset": 2},
        {"cursor": cursor[:-4]},
    ):
        answer = api.get("/v1/media", params=params)
        assert answer.status_code == 422, (params, answer.text)
        assert error_of(answer)["code"] == "validation_error"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def counted_to_four(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    with running_server(request, tmp_path_factory, request.param, list_total_exact_max=4) as server:
        yield server


def test_a_long_list_says_its_total_is_a_floor(counted_to_four: RunningServer) -> None:
    with counted_to_four.client() as api:
        for i in range(4):
            request_upload(api, filename=f"f{i}.jpg")
        exact = api.get("/v1/media", params={"limit": 2}).json()["pagination"]
        assert (exact["total"], exact["total_exact"]) == (4, True)
        request_upload(api, filename="f4.jpg")
        floor = api.get("/v1/media", params={"limit": 2}).json()["pagination"]
        assert (floor["total"], floor["total_exact"]) == (4, False)  # at least four
        walked, _ = _walk(api)
        assert len(walked) == 5  # the cursor still reaches every item


def test_the_search_index_follows_every_change(api: httpx.Client) -> None:
    """Search goes through the database's index (FTS5 on SQLite, trigrams on PostgreSQL):
    it must see new media, renames, new and removed tags and descriptions, and deletes."""

    def found(q: str) -> set[str]:
        return set(_ids(api.get("/v1/media", params={"q": q, "limit": 100})))

    media = request_upload(api, filename="harbour-dawn.jpg", tags=["Seaside"])["id"]
    other = request_upload(api, filename="zz.jpg", description="a 100%_real dawn")["id"]
    assert found("HARBOUR") == {media} and found("seasid") == {media}
    assert found("dawn") == {media, other}
    # One or two characters: a name's beginning (or that exact tag), not any substring.
    assert found("ha") == {media} and found("aw") == set()
    assert found("100%_r") == {other}  # wildcards are literal on every path
    assert found('"real') == set() and found('a "q') == set()  # quotes too
    assert found("ReAl DaWn") == {other}
    renamed = api.patch(
        f"/v1/media/{media}",
        json={"filename": "lighthouse.jpg", "tags": ["cliffs"], "description": "Fog horn"},
    )
    assert renamed.status_code == 200
    assert found("harbour") == set() and found("seaside") == set()
    assert found("lighthouse") == {media} and found("cliffs") == {media}
    assert found("fog h") == {media}
    assert api.patch(f"/v1/media/{media}", json={"tags": []}).status_code == 200
    assert found("cliffs") == set()
    assert api.delete(f"/v1/media/{other}").status_code == 200
    assert found("real dawn") == set()
    assert found("zz.jpg\x1fa 1") == set()  # fields never run into each other


def _forged(values: list[object]) -> str:
    raw = json.dumps(values, ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# Hostile values a forger puts in a cursor: integers past 2^63 and negative, floats, NaN,
# lone surrogates, NUL and control characters, very long text, far dates, nested values.
_HOSTILE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from([2**63, 2**64 + 1, -(2**63) - 1, 2**31]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.characters(codec=None), max_size=40),
    st.sampled_from(
        [
            "\ud800",
            "a\x00b",
            "\x00",
            "x" * 5000,
            "0001-01-01T00:00:00+00:00",
            "9999-12-31T23:59:59+14:00",
            "med_\x00",
            "med_" + "Z" * 26,
        ]
    ),
    st.lists(st.integers(), max_size=2),
)
_VALID = {
    "recent": ["recent", "2026-12-06T10:00:00+00:00", "med_01M96PJRAVFA3360SPYAJPHMSD"],
    "name": ["name", "2026-12-06T10:00:00+00:00", "med_01M96PJRAVFA3360SPYAJPHMSD", "one.jpg"],
    "most_used": ["most_used", "2026-12-06T10:00:00+00:00", "med_01M96PJRAVFA3360SPYAJPHMSD", 3],
}


@st.composite
def _forged_cursor(draw: st.DrawFn) -> tuple[str, list[object]]:
    """A cursor of a real shape with one or more of its values replaced by hostile ones."""
    sort = draw(st.sampled_from(sorted(_VALID)))
    values = list(_VALID[sort])
    for position in draw(st.sets(st.integers(1, len(values) - 1), min_size=1)):
        values[position] = draw(_HOSTILE)
    return sort, values


def test_forged_cursors_are_refused_never_a_500(api: httpx.Client) -> None:
    """Fuzzed on both databases: integers past 2^63, lone surrogates and NUL (which
    PostgreSQL refuses in text) answered 500 before every value was checked."""
    request_upload(api, filename="one.jpg")

    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
    @given(_forged_cursor())
    def forged(case: tuple[str, list[object]]) -> None:
        sort, values = case
        answer = api.get("/v1/media", params={"cursor": _forged(values), "sort": sort})
        assert answer.status_code in (200, 422), (values, answer.text)

    forged()


def test_tags_are_added_and_removed_in_bulk(api: httpx.Client) -> None:
    ids = [request_upload(api, filename=f"b{n}.jpg", tags=["Keep", "drop"])["id"] for n in range(3)]
    answer = api.post(
        "/v1/media/bulk-tags",
        json={"ids": [*ids[:2], "med_missing"], "add": ["new", "KEEP"], "remove": ["DROP"]},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"updated": ids[:2], "not_found": ["med_missing"]}
    tags = {m["id"]: m["tags"] for m in api.get("/v1/media").json()["data"]}
    assert tags[ids[0]] == tags[ids[1]] == ["Keep", "new"] and tags[ids[2]] == ["Keep", "drop"]
    assert api.get("/v1/media", params={"tag": "new"}).json()["pagination"]["total"] == 2
    for bad in ({"ids": []}, {"ids": ids, "add": ["x" * 101]}, {"ids": ["a"] * 101}):
        refused = api.post("/v1/media/bulk-tags", json=bad)
        assert refused.status_code == 422 and error_of(refused)["code"] == "validation_error"
