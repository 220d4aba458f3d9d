"""Finding files that nobody has touched for a while (abandoned temporary and partial files)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from pathlib import Path

from medialib import clock


def idle_files(folder: Path, *, older_than: dt.timedelta) -> list[Path]:
    """Regular files directly in `folder` last modified longer than `older_than` ago."""
    cutoff = clock.timestamp() - older_than.total_seconds()
    idle = []
    for entry in os.scandir(folder):
        with contextlib.suppress(FileNotFoundError):
            if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                idle.append(Path(entry.path))
    return idle
