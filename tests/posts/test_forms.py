"""Every post form of every network at N and N+1 (and at its minimum and one below), and
the rules that cut across counts: a kind that must be alone, mixing, caption length, a
document's title. Pure: the typed rules and posts/rules.py, no server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from medialib.platforms.rules import Form, Network, catalog
from medialib.posts.rules import choose_form, form_reasons

COUNT_CODES = {"too_many_media", "too_many_of_kind", "must_be_alone"}


def _cases() -> Iterator[tuple[Network, Form, str]]:
    for network in catalog():
        for form in network.forms:
            for kind in form.media:
                yield network, form, kind


CASES = list(_cases())


def _most(form: Form, kind: str) -> int | None:
    caps = [c for c in (form.max_items, form.most.get(kind)) if c is not None]
    if kind in form.alone:
        caps.append(1)
    return min(caps) if caps else None


@pytest.mark.parametrize(
    "network, form, kind", CASES, ids=[f"{n.id}-{f.id}-{k}" for n, f, k in CASES]
)
def test_a_form_takes_n_and_refuses_n_plus_one(network: Network, form: Form, kind: str) -> None:
    most = _most(form, kind)
    if most is None:  # no count rule: a long post is taken
        assert form_reasons(form, [kind] * 50, text="", titled=True) == []
        return
    if most >= form.min_items:
        assert form_reasons(form, [kind] * most, text="", titled=True) == []
    too_many = form_reasons(form, [kind] * (most + 1), text="", titled=True)
    codes = {r.code for r in too_many}
    assert codes & COUNT_CODES, (network.id, form.id, kind, codes)
    counted = next(r for r in too_many if r.code in COUNT_CODES)
    assert counted.limit == (1 if counted.code == "must_be_alone" else most)
    assert counted.form == form.id and counted.message.endswith(".")


@pytest.mark.parametrize(
    "network, form",
    [(n, f) for n in catalog() for f in n.forms if f.min_items > 1],
    ids=lambda value: getattr(value, "id", ""),
)
def test_a_form_with_a_minimum_refuses_one_fewer(network: Network, form: Form) -> None:
    kind = next(iter(form.media))
    below = form_reasons(form, [kind] * (form.min_items - 1), text="", titled=True)
    assert [r.code for r in below] == ["too_few_media"]
    assert below[0].limit == form.min_items


def _form_of(network: str, kinds: list[str], *, text: str = "", titled: bool = True) -> str | None:
    chosen, reasons = choose_form(catalog().networks[network], kinds, text=text, titled=titled)
    return chosen.id if chosen is not None and not reasons else None


def test_instagram_posts_take_the_form_their_media_make() -> None:
    assert _form_of("instagram", ["image"]) == "feed"
    assert _form_of("instagram", ["video"]) == "reel"
    for count in (2, 10):
        assert _form_of("instagram", ["image"] * count) == "carousel"
    assert _form_of("instagram", ["video", "video"]) == "carousel"
    assert _form_of("instagram", ["image", "video", "image"]) == "carousel"
    assert _form_of("instagram", ["image"] * 11) is None
    _, reasons = choose_form(catalog().networks["instagram"], ["image"] * 11, text="", titled=True)
    assert [(r.code, r.form, r.limit, r.actual) for r in reasons] == [
        ("too_many_media", "carousel", 10, 11)
    ]


@pytest.mark.parametrize(
    "network, kinds, form",
    [
        ("threads", ["image"], "single"),
        ("threads", ["image", "video"], "carousel"),
        ("linkedin", ["image", "image"], "multi_image"),
        ("linkedin", ["document"], "document"),
        ("telegram", ["image", "video"], "album"),
        ("pinterest", ["image", "image"], "carousel"),
        ("pinterest", ["video"], "video"),
    ],
)
def test_each_network_picks_its_form(network: str, kinds: list[str], form: str) -> None:
    assert _form_of(network, kinds) == form


@pytest.mark.parametrize(
    "network, kinds, code",
    [
        ("x", ["gif", "image"], "must_be_alone"),
        ("x", ["video", "image"], "must_be_alone"),
        ("linkedin", ["document", "image"], "no_mixing"),
        ("telegram", ["document", "image"], "no_mixing"),  # grouped only with their own kind
        ("mastodon", ["image", "video"], "must_be_alone"),
        ("youtube", ["image"], "kind_not_taken"),
    ],
)
def test_what_no_form_takes_is_named(network: str, kinds: list[str], code: str) -> None:
    chosen, reasons = choose_form(catalog().networks[network], kinds, text="", titled=True)
    assert code in {r.code for r in reasons}, [r.code for r in reasons]
    assert all(r.form == (chosen.id if chosen else None) for r in reasons)
    assert all(r.message[0].isupper() and r.message.endswith(".") for r in reasons)


def test_a_caption_is_taken_up_to_its_limit() -> None:
    telegram = catalog().networks["telegram"]
    longest = next(f.caption_max_chars for f in telegram.forms if f.caption_max_chars)
    assert longest == 1024
    assert _form_of("telegram", ["image"], text="é" * longest) is not None
    _, reasons = choose_form(telegram, ["image"], text="é" * (longest + 1), titled=True)
    assert [(r.code, r.limit, r.actual) for r in reasons] == [
        ("caption_too_long", longest, longest + 1)
    ]
    assert "1,025 characters" in reasons[0].message


def test_a_linkedin_document_needs_a_title() -> None:
    linkedin = catalog().networks["linkedin"]
    assert _form_of("linkedin", ["document"], titled=False) is None
    _, reasons = choose_form(linkedin, ["document"], text="", titled=False)
    assert [r.code for r in reasons] == ["title_required"]
