"""Imported only by the fork server (sandbox.py's preload), never by medialib itself.

A child forked from the server runs the parent's main script again before its work
(multiprocessing's `_fixup_main_from_path`): for the `medialib` command that imports the
whole CLI, ~0.13 s per child, more than a remux or a probe takes. Every child's work is a
function of an importable medialib module, never of `__main__`, so in the server (and the
children it forks) that step is skipped. CPython asks the fork server to import
`__main__` once when "__main__" is preloaded, but passes the wrong key for its path
(`main_path` against `init_main_from_path`), so that preload never happens.
"""

from __future__ import annotations

from multiprocessing import spawn


def _keep_main(main_path: str) -> None:
    """The children's work needs nothing of the parent's main script: not run again."""


spawn._fixup_main_from_path = _keep_main  # type: ignore[attr-defined]
