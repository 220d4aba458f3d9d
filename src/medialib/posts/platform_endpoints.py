"""GET /v1/platforms: every network's name, post forms and limits, from the rules in
force, so pages and API users need not hard-code them."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from medialib.deps import CurrentWorkspace
from medialib.platforms.rules import Catalog, Form, catalog
from medialib.posts.schemas import FormOut, KindOut, NetworkOut, PlatformList

router = APIRouter(prefix="/v1/platforms", tags=["platforms"])


@router.get("", response_model=PlatformList, responses={304: {"description": "Not modified"}})
def list_platforms(
    request: Request, response: Response, _workspace: CurrentWorkspace
) -> PlatformList | Response:
    """The networks medialib judges media for. The answer carries an `ETag` (the rules'
    version): send it back in `If-None-Match` to get 304 until the rules change."""
    rules = catalog()
    tag = f'"{rules.version}"'
    if tag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers={"ETag": tag})
    response.headers["ETag"] = tag
    return platform_list(rules)


def platform_list(rules: Catalog) -> PlatformList:
    return PlatformList(
        version=rules.version,
        data=[
            NetworkOut(id=network.id, name=network.name, forms=[_form(f) for f in network.forms])
            for network in rules
        ],
    )


def _form(form: Form) -> FormOut:
    return FormOut(
        id=form.id,
        label=form.label,
        min_items=form.min_items,
        max_items=form.max_items,
        max_per_kind=dict(form.most),
        alone=sorted(form.alone),
        mix=form.mix,
        caption_max_chars=form.caption_max_chars,
        title_required=form.title_required,
        media={
            kind: KindOut(send_as=rule.send_as, limits=rule.rules.limits())
            for kind, rule in form.media.items()
        },
    )
