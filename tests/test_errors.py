"""The error tree is drawn once, in errors.py's docstring; this keeps the drawing true:
every client-visible error class is in it, under its parent, with its status and code."""

from __future__ import annotations

import re

from medialib import errors
from medialib.errors import MedialibError

_LINE = re.compile(
    r"^(?P<indent>[\s│]*)(?:[├└]── )?(?P<name>[A-Z]\w+)\s+(?P<status>\d{3}) (?P<code>\w+)"
)


def _drawn() -> dict[str, tuple[int, str, str]]:
    """name -> (status, code, parent) as the docstring draws them."""
    drawn: dict[str, tuple[int, str, str]] = {}
    parents = ["MedialibError"]
    for line in (errors.__doc__ or "").splitlines():
        match = _LINE.match(line)
        if match is None:
            continue
        depth = len(match["indent"]) // 4 - 1
        parent = parents[depth]
        drawn[match["name"]] = (int(match["status"]), match["code"], parent)
        del parents[depth + 1 :]
        parents.append(match["name"])
    return drawn


def _classes() -> dict[str, type[MedialibError]]:
    return {
        name: value
        for name, value in vars(errors).items()
        if isinstance(value, type)
        and issubclass(value, MedialibError)
        and value is not MedialibError
    }


def test_every_error_class_is_drawn_with_its_status_code_and_parent() -> None:
    drawn = _drawn()
    classes = _classes()
    assert sorted(set(classes) - set(drawn)) == [], "draw these in errors.py's tree"
    assert sorted(set(drawn) - set(classes)) == [], "the tree draws classes that do not exist"
    for name, cls in classes.items():
        status, code, parent = drawn[name]
        assert (cls.status_code, cls.code, cls.__mro__[1].__name__) == (status, code, parent), name
