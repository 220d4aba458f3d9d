"""Listing: filters, search, sort and pagination totals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx

from tests.helpers import error_of, request_upload, upload_file


def _ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


def test_list_is_newest_first_with_pagination_totals(api: httpx.Client, files: Path) -> None:
    made = [request_upload(api, filename=f"file-{i}.jpg")["id"] for i in range(7)]
    page = api.get("/v1/media", params={"limit": 3}).json()
    assert page["pagination"] == {"limit": 3, "offset": 0, "total": 7}
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
    assert _ids(api.get("/v1/media", params={"q": "%"})) == []
    assert _ids(api.get("/v1/media", params={"q": "_"})) == []


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
    ):
        response = api.get("/v1/media", params=params)
        assert response.status_code == 422, params
        assert error_of(response)["code"] == "validation_error"
