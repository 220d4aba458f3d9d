"""`medialib upload FILE...`: a client of a running server, with a progress bar per file.
It finds the server and the first key from the data dir a local `serve` wrote them to."""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from medialib.config import Settings

FIRST_KEY_FILE = "first-api-key.txt"
# Where a running `serve` says it can be reached, so `upload` finds it.
SERVER_URL_FILE = "server-url.txt"


def upload(args: argparse.Namespace) -> int:
    import threading

    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    from medialib.client import Client, ConnectionFailed, MedialibAPIError

    settings = Settings()
    url = args.url or running_server_url(settings) or settings.public_base_url
    api_key = args.api_key or stored_first_key(settings)
    if not api_key:
        print("medialib upload: pass --api-key or set MEDIALIB_API_KEY", file=sys.stderr)
        return 2
    missing = [str(path) for path in args.files if not path.is_file()]
    if missing:
        print(f"medialib upload: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
    )
    printed = threading.Lock()
    # Bars go to stderr; stdout gets one plain "name<TAB>id<TAB>status" line per file.
    progress = Progress(*columns, console=Console(stderr=True))
    with Client(url, api_key) as client, progress:

        def one(path: Path) -> str:
            task = progress.add_task(path.name[:40], total=path.stat().st_size)
            try:
                media = client.upload(
                    path,
                    kind=args.kind,
                    tags=args.tags,
                    description=args.description,
                    progress=lambda sent, total: progress.update(task, completed=sent, total=total),
                )
            except MedialibAPIError as exc:
                progress.console.print(f"[red]{path.name}: {exc.code}: {exc.message}[/red]")
                return ""
            with printed:
                print(f"{path.name}\t{media['id']}\t{media['status']}", flush=True)
            return str(media["id"])

        try:
            client.ping()
        except ConnectionFailed as exc:
            print(
                f"medialib upload: cannot reach medialib at {url} ({exc}); is `medialib serve`"
                " running? Pass its address with --url or MEDIALIB_URL.",
                file=sys.stderr,
            )
            return 2
        with ThreadPoolExecutor(max_workers=max(1, args.parallel)) as pool:
            results = list(pool.map(one, args.files))
    failures = sum(1 for media_id in results if not media_id)
    return 1 if failures else 0


def running_server_url(settings: Settings) -> str | None:
    """The URL a `serve` on this data dir said it runs at (it may be on another port)."""
    url_file = settings.resolved_data_dir / SERVER_URL_FILE
    return url_file.read_text().strip() or None if url_file.exists() else None


def stored_first_key(settings: Settings) -> str | None:
    key_file = settings.resolved_data_dir / FIRST_KEY_FILE
    return key_file.read_text().strip() if key_file.exists() else None
