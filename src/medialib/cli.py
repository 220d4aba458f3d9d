"""`medialib` command line: serve, worker, keys, upload, gc, db."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError
from pydantic_settings import SettingsError

from medialib import cli_admin as admin
from medialib import logs
from medialib.cli_upload import FIRST_KEY_FILE, SERVER_URL_FILE
from medialib.config import Settings
from medialib.platforms.rule_values import RulesError


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logs.configure(_log_format())
    try:
        result: int = args.handler(args)
    except RulesError as bad:  # a data file with a bad value: say which, in one line
        print(f"medialib: the platform rules cannot be read: {bad}", file=sys.stderr)
        return 2
    except ValidationError as bad:  # a MEDIALIB_* setting that is not valid: one line each
        for problem in bad.errors():
            field = str(problem["loc"][0]) if problem["loc"] else ""
            name = f"MEDIALIB_{field.upper()}" if field else "MEDIALIB_* settings"
            print(f"medialib: {name}: {problem['msg']}", file=sys.stderr)
        return 2
    except SettingsError as bad:  # a list or mapping setting that is not JSON
        found = re.search(r'field "(\w+)"', str(bad))
        name = f"MEDIALIB_{found.group(1).upper()}" if found else "a MEDIALIB_* setting"
        print(f'medialib: {name} is not valid JSON (e.g. ["https://a.example"])', file=sys.stderr)
        return 2
    return result


def _log_format() -> logs.LogFormat:
    try:
        return Settings().log_format
    except ValueError:  # the command itself reports bad settings, in its own words
        return "text"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="medialib", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the API, the web page and embedded workers")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(handler=_serve)

    worker = commands.add_parser("worker", help="run job workers only (no HTTP)")
    worker.add_argument("--threads", type=int, default=None, help="threads per queue")
    worker.set_defaults(handler=_worker)

    keys = commands.add_parser("keys", help="API keys").add_subparsers(required=True)
    create = keys.add_parser("create", help="create a key (printed as the last line)")
    create.add_argument("--workspace", required=True)
    create.add_argument("--name", default=None)
    create.set_defaults(handler=admin.keys_create)
    revoke = keys.add_parser("revoke", help="revoke a key by its full text")
    revoke.add_argument("key")
    revoke.set_defaults(handler=admin.keys_revoke)

    quota = commands.add_parser(
        "quota", help="set a workspace's storage quota (media and trash count against it)"
    )
    quota.add_argument("--workspace", required=True)
    quota.add_argument("size", help="bytes, or with a unit (500MB, 10GB, 1TiB), or 'none'")
    quota.set_defaults(handler=admin.quota)

    workspace = commands.add_parser("workspace", help="workspaces").add_subparsers(required=True)
    delete = workspace.add_parser(
        "delete", help="delete a workspace: its keys stop, its media is purged after 30 days"
    )
    delete.add_argument("--workspace", required=True)
    delete.set_defaults(handler=admin.workspace_delete)

    upload = commands.add_parser("upload", help="upload files with progress bars")
    upload.add_argument("files", nargs="+", type=Path)
    upload.add_argument("--tag", action="append", dest="tags")
    upload.add_argument("--description")
    upload.add_argument("--kind")
    upload.add_argument("--url", default=os.environ.get("MEDIALIB_URL"))
    upload.add_argument("--api-key", default=os.environ.get("MEDIALIB_API_KEY"))
    upload.add_argument("--parallel", type=int, default=4)
    upload.set_defaults(handler=_upload)

    gc = commands.add_parser(
        "gc", help="reclaim what nothing owns: abandoned uploads, old trash, temporary files"
    )
    gc.add_argument("--json", action="store_true", help="print the report as JSON")
    gc.add_argument("--dry-run", action="store_true", help="report what would go; remove nothing")
    gc.set_defaults(handler=admin.gc)

    db = commands.add_parser("db", help="database").add_subparsers(required=True)
    db.add_parser("upgrade", help="apply migrations").set_defaults(handler=admin.db_upgrade)
    storage = commands.add_parser("storage", help="the object store").add_subparsers(required=True)
    storage.add_parser(
        "init", help="make the bucket (or folder) and its CORS rule; again changes nothing"
    ).set_defaults(handler=admin.storage_init)
    return parser


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from medialib.app import create_app
    from medialib.server import uvicorn_config

    settings = Settings()
    taken = _port_taken(args.host, args.port)
    if taken:
        print(
            f"medialib serve: {args.host}:{args.port} is not free ({taken}); "
            "pass another with --port",
            file=sys.stderr,
        )
        return 1
    if settings.public_url is None:
        shown_host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host  # noqa: S104
        shown_host = f"[{shown_host}]" if ":" in shown_host else shown_host
        settings = settings.model_copy(update={"public_url": f"http://{shown_host}:{args.port}"})
    app = create_app(settings)
    url_file = settings.resolved_data_dir / SERVER_URL_FILE
    url_file.write_text(settings.public_base_url + "\n")
    first_key = _first_run_key(settings)
    page = f"http://{args.host}:{args.port}/"
    _banner(settings, page, first_key)
    config = uvicorn_config(
        app,
        host=args.host,
        port=args.port,
        header_seconds=settings.http_header_seconds,
        body_window_seconds=settings.http_body_window_seconds,
        trusted_proxies=settings.trusted_proxies,
    )
    _freeze_start_up_objects()
    logs.write_in_background()  # the event loop logs each request: never a write of its own
    try:
        uvicorn.Server(config).run()
    finally:
        url_file.unlink(missing_ok=True)
    return 0


def _banner(settings: Settings, page: str, first_key: str | None) -> None:
    """Where to go, and (development, text logs) the first key to sign in with. A JSON
    log gets records, never the key; production makes no key by itself."""
    key_file = settings.resolved_data_dir / FIRST_KEY_FILE
    if settings.log_format == "json":
        log = logging.getLogger("medialib.serve")
        log.info("medialib is starting", extra={"url": page, "docs": f"{page}docs"})
        if first_key:
            log.info("first API key kept in the data dir", extra={"key_file": str(key_file)})
        return
    print(f"medialib is starting on {page}", flush=True)
    if first_key:
        print(f"API key (workspace 'default'): {first_key}", flush=True)
    elif settings.environment == "production" and not key_file.exists():
        print("make a workspace and its key: medialib keys create --workspace NAME", flush=True)
    print(f"Open {page} ; API reference at {page}docs", flush=True)


def _freeze_start_up_objects() -> None:
    """What start-up made (modules, the app, its routes and models) lives as long as the
    process: moved out of the cyclic collector's sight, a full collection no longer walks
    it. Such a collection took 60 ms with every thread stopped, often enough under load
    to be the slowest answers' wait (gc.freeze's documented use)."""
    gc.collect()
    gc.freeze()


def _port_taken(host: str, port: int) -> str | None:
    """Why the address cannot be listened on, or None when it can."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def _first_run_key(settings: Settings) -> str | None:
    """On the very first start, make a workspace and key so a newcomer can begin at once.

    Development only (production makes none by itself): the key is kept in the data dir
    (0600) so later starts show it again.
    """
    from medialib.db import make_engine, make_session_factory, session_scope
    from medialib.workspaces.keys import create_key
    from medialib.workspaces.repository import WorkspaceRepository

    key_file = settings.resolved_data_dir / FIRST_KEY_FILE
    if key_file.exists():
        return key_file.read_text().strip()
    if settings.environment != "development":
        return None  # an operator makes workspaces and keys (`medialib keys create`)
    engine = make_engine(settings.resolved_database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            if WorkspaceRepository(session).any_exists():
                return None
            created = create_key(session, workspace_name="default", key_name="first key")
    finally:
        engine.dispose()
    # Kept (0600) so later starts show it again.
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(created.plaintext + "\n")
    return created.plaintext


def _worker(args: argparse.Namespace) -> int:
    """Job workers without HTTP: Dramatiq consumers when a broker is set, else threads
    polling the job table (several such processes may share one database)."""
    import signal
    import threading

    from medialib.app import build_state, housekeeper_for, metrics_registry
    from medialib.jobs.runner import EmbeddedRunner
    from medialib.metrics import serve_apart
    from medialib.tasks import load_handlers

    settings = Settings()
    state = build_state(settings, run_workers=False)
    housekeeper_for(state).start()  # a daemon: it ends with the process
    if settings.metrics_address:  # jobs, scans and webhooks counted here reach Prometheus
        serve_apart(settings.metrics_address, metrics_registry(state))
        print(f"metrics on http://{settings.metrics_address}/metrics", flush=True)
    logs.write_in_background()  # job threads log: a stalled output must not stop them
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if state.broker is not None:
        state.broker.start_workers()
        queues = ", ".join(f"{q} x{n}" for q, n in settings.all_queue_threads.items())
        print(f"medialib worker {state.broker.worker_id} on the broker: {queues}", flush=True)
        stop.wait()
        state.broker.stop()
        return 0
    context = state.runtime
    threads = settings.all_queue_threads
    if args.threads:
        threads = dict.fromkeys(threads, args.threads)
    runner = EmbeddedRunner(context, load_handlers(), queue_threads=threads)
    runner.start()
    print(
        f"medialib worker {runner.worker_id} polling with {runner.thread_count} threads", flush=True
    )
    stop.wait()
    runner.stop()
    return 0


def _upload(args: argparse.Namespace) -> int:
    from medialib.cli_upload import upload

    return upload(args)


if __name__ == "__main__":
    sys.exit(main())
