"""`medialib` commands that act on the database or the store and stop: keys, quota,
workspace delete, gc, storage init, db upgrade (cli.py parses and dispatches)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from medialib.config import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

T = TypeVar("T")


def with_session(action: Callable[[Session], T]) -> T:
    from medialib.db import make_engine, make_session_factory, migrate, session_scope

    settings = Settings()
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    try:
        with session_scope(make_session_factory(engine)) as session:
            return action(session)
    finally:
        engine.dispose()


def keys_create(args: argparse.Namespace) -> int:
    from medialib.workspaces.keys import create_key

    created = with_session(
        lambda session: create_key(session, workspace_name=args.workspace, key_name=args.name)
    )
    print(f"workspace: {created.workspace.name} ({created.workspace.id})")
    print(created.plaintext)
    return 0


def keys_revoke(args: argparse.Namespace) -> int:
    from medialib.workspaces.key_cache import touch_stamp
    from medialib.workspaces.keys import KEY_PREFIX, revoke_key

    lookup = args.key.removeprefix(KEY_PREFIX).split("_", 1)[0]
    revoked = with_session(lambda session: revoke_key(session, lookup))
    touch_stamp(Settings().resolved_data_dir)  # servers here forget cached keys at once
    print("revoked" if revoked else "no such active key")
    return 0 if revoked else 1


UNITS = {
    "": 1,
    "B": 1,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "KIB": 2**10,
    "MIB": 2**20,
    "GIB": 2**30,
    "TIB": 2**40,
}


def parse_size(text: str) -> int | None:
    """`10GB`, `500 MiB`, `1234` → bytes; `none` → None (no quota)."""
    cleaned = text.strip().upper().replace(" ", "")
    if cleaned in ("NONE", "UNLIMITED"):
        return None
    number = cleaned.rstrip("KMGTIB")
    unit = cleaned[len(number) :]
    if unit not in UNITS:
        raise ValueError(f"unknown unit in {text!r}")
    return int(float(number) * UNITS[unit])


def workspace_delete(args: argparse.Namespace) -> int:
    from medialib.account.service import AccountService
    from medialib.workspaces.key_cache import touch_stamp

    moved = with_session(lambda session: AccountService(session).delete(args.workspace))
    touch_stamp(Settings().resolved_data_dir)  # servers here forget its keys at once
    if moved is None:
        print(f"medialib workspace delete: no workspace {args.workspace!r}", file=sys.stderr)
        return 1
    print(f"workspace {args.workspace!r} deleted: its keys no longer work; {moved} media in")
    print("the trash, purged by `medialib gc` in 30 days")
    return 0


def quota(args: argparse.Namespace) -> int:
    from medialib.workspaces.service import WorkspaceService

    try:
        quota = parse_size(args.size)
    except ValueError as exc:
        print(f"medialib quota: {exc}", file=sys.stderr)
        return 2
    found = with_session(lambda session: WorkspaceService(session).set_quota(args.workspace, quota))
    if not found:
        print(f"medialib quota: no workspace named {args.workspace!r}", file=sys.stderr)
        return 1
    print(f"{args.workspace}: {'no quota' if quota is None else f'{quota} bytes'}")
    return 0


def gc(args: argparse.Namespace) -> int:
    import json

    from medialib.app import build_state
    from medialib.gc import collect_garbage

    state = build_state(Settings(), run_workers=False)
    report = collect_garbage(state.runtime, dry_run=args.dry_run)
    state.engine.dispose()
    if args.json:
        print(json.dumps(report))
        return 0
    width = max(len(name) for name in report)
    for name, count in report.items():
        print(f"{name.replace('_', ' '):<{width}}  {count}")
    return 0


def storage_init(_: argparse.Namespace) -> int:
    from medialib.storage.setup import prepare_store

    for line in prepare_store(Settings()):
        print(line)
    return 0


def db_upgrade(_: argparse.Namespace) -> int:
    from medialib.db import make_engine, migrate

    engine = make_engine(Settings().resolved_database_url)
    migrate(engine)
    engine.dispose()
    print("database is up to date")
    return 0
