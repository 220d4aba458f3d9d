"""`./bench/run`: every benchmark, each against its baseline measured in the same run;
the report goes to docs/benchmarks.md."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
from pathlib import Path

from bench import (
    api_load,
    hostile,
    processing,
    publish,
    search,
    signed_put,
    tonemap,
    variants,
)

REPORT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--only",
        choices=["put", "processing", "variants", "tonemap", "search", "hostile", "api", "publish"],
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="media rows of the list bench")
    parser.add_argument(
        "--large-rows", type=int, default=10_000_000, help="PostgreSQL rows of the list bench"
    )
    parser.add_argument(
        "--video-seconds", type=int, default=60, help="length of the variants bench's clip"
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="leave docs/benchmarks.md alone")
    args = parser.parse_args()
    sections = []
    if args.only in (None, "put"):
        sections.append(signed_put.run(runs=args.runs))
    if args.only in (None, "processing"):
        sections.append(processing.run(runs=args.runs))
    if args.only in (None, "variants"):
        sections.append(variants.run(runs=min(args.runs, 3), video_seconds=args.video_seconds))
    if args.only in (None, "tonemap"):
        sections.append(tonemap.run(runs=min(args.runs, 3)))
    if args.only in (None, "search"):
        sections.append(search.run(rows=args.rows, large_rows=args.large_rows))
    if args.only in (None, "api"):
        sections.append(api_load.run())
    if args.only in (None, "publish"):
        sections.append(publish.run())
    if args.only in (None, "hostile"):
        sections.append(hostile.run())
    if not args.no_write and args.only is None:
        header = f"""# Benchmarks

Run with `./bench/run` (one command: it makes its own files, starts its own server and
measures every baseline in the same run). Last run: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC},
{os.cpu_count()} cores, {platform.machine()}. Timings on these virtual machines are noisy:
read medians and ranges, and compare only figures from the same run.
"""
        REPORT.write_text("\n".join([header, *sections]))
    elif not args.no_write:  # one benchmark: its section of the report is replaced
        REPORT.write_text(_replaced(REPORT.read_text(), sections[0]))
    print("\n".join(sections))
    return 0


def _replaced(report: str, section: str) -> str:
    """The report with the section of the same `## ` heading swapped (or added at the end)."""
    heading = section.split("\n", 1)[0]
    start = report.find(heading + "\n")
    if start < 0:
        return report.rstrip("\n") + "\n\n" + section
    end = report.find("\n## ", start + len(heading))
    return report[:start] + section + ("\n" + report[end + 1 :] if end >= 0 else "")


if __name__ == "__main__":
    sys.exit(main())
