"""The schema kit every domain's request and response bodies build on."""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from starlette.responses import Response


class Strict(BaseModel):
    """A request body: unknown fields are refused (a typo never passes silently)."""

    model_config = ConfigDict(extra="forbid")


class Pagination(BaseModel):
    limit: int
    offset: int
    total: int
    # False when `total` is a floor: the list holds at least that many.
    total_exact: bool = True
    # The next page (`?cursor=`), as fast however deep; None on the last page. Lists
    # that give one also send it as a `Link: <…>; rel="next"` header.
    next_cursor: str | None = None


class Deleted(BaseModel):
    id: str
    deleted: bool


class ReasonOut(BaseModel):
    """Why a media or a post does not go to a network as it is: a stable `code` to branch
    on, a plain-English `message`, the rule's `limit` and the `actual` value, the `fix`
    (convert, remux, crop, pad: medialib makes a variant; scaled_by_network: the network
    adjusts it itself; none: it cannot go), and the post `form` it was judged in."""

    code: str
    message: str
    limit: Any = None
    actual: Any = None
    fix: Literal["convert", "remux", "crop", "pad", "scaled_by_network", "none"]
    form: str | None = None


def tagged_json_body(model: BaseModel, if_none_match: str | None) -> Response:
    """`json_body` with a strong ETag of its bytes; 304 (no body) when the client's
    If-None-Match already names them."""
    content = model.model_dump_json()
    tag = '"' + hashlib.sha256(content.encode()).hexdigest()[:32] + '"'
    asked = {part.strip().removeprefix("W/") for part in (if_none_match or "").split(",")}
    if tag in asked or "*" in asked:
        return Response(status_code=304, headers={"ETag": tag})
    return Response(content=content, media_type="application/json", headers={"ETag": tag})


def json_body(model: BaseModel, *, headers: dict[str, str] | None = None) -> Response:
    """A response of `model` serialised once, by pydantic's own (Rust) serialiser: a route
    that returns the model itself has FastAPI validate it again against its
    `response_model` first, which is a tenth of a hot read's time. The route keeps
    `response_model` for the API document."""
    return Response(content=model.model_dump_json(), media_type="application/json", headers=headers)
