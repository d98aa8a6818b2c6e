"""``python -m analysis data build|check|fetch``: the data layer's commands."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from analysis.core.paths import RAW_DIR_DEFAULT, SERIES_DIR

# analysis.data.build (pandas, pandera) is imported inside the commands, so `report` starts without it.


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``data`` command and its sub-commands to the CLI."""
    data = commands.add_parser("data", help="build, check or fetch the data series")
    sub = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")

    build = sub.add_parser("build", help="parse the raw files and write the tidy series under data/series/")
    build.add_argument("--raw-dir", type=Path, default=RAW_DIR_DEFAULT, help="folder of the official source files, one subfolder per source (default: data/raw; the reference copy is ../shared/data/raw)")
    build.add_argument("--out-dir", type=Path, default=SERIES_DIR, help="where to write the series (default: data/series)")
    build.set_defaults(func=_build)

    check = sub.add_parser("check", help="validate the raw files and compare with the committed series; write nothing")
    check.add_argument("--raw-dir", type=Path, default=RAW_DIR_DEFAULT, help="folder of the official source files to rebuild from (default: data/raw)")
    check.add_argument("--out-dir", type=Path, default=SERIES_DIR, help="committed series to compare with")
    check.set_defaults(func=_check)

    fetch = sub.add_parser("fetch", help="download the files named in data/sources.yml and verify their sha256")
    fetch.add_argument("--raw-dir", type=Path, default=RAW_DIR_DEFAULT, help="folder to download the official source files into (default: data/raw)")
    fetch.add_argument("--mirror", default=None, help="base URL of a mirror laid out as <folder>/<file> (instead of each download_url)")
    fetch.add_argument("--timeout", type=float, default=600.0, help="deadline in seconds for each file's whole download (default 600)")
    fetch.set_defaults(func=_fetch)


def _build(args: argparse.Namespace) -> int:
    from analysis.data.build import build_series, write_series

    started = time.perf_counter()
    result = build_series(args.raw_dir)
    written = write_series(result, args.out_dir)
    seconds = time.perf_counter() - started
    print(f"built {len(written)} files in {args.out_dir} from {args.raw_dir} in {seconds:.1f} s")
    for path in written:
        print(f"  {path.name}: {result.log['rows'].get(path.name, '-')} rows" if path.suffix == ".csv" else f"  {path.name}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from analysis.data.build import build_series, render_files

    result = build_series(args.raw_dir)
    files = render_files(result)
    stale = []
    for name, data in files.items():
        committed = Path(args.out_dir) / name
        if not committed.is_file() or committed.read_bytes() != data:
            stale.append(name)
    if stale:
        print(f"raw files are valid, but these series differ from {args.out_dir}: {', '.join(stale)}; run `python -m analysis data build`", file=sys.stderr)
        return 1
    print(f"raw files are valid and every series in {args.out_dir} is up to date")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    from analysis.data.fetch import fetch_sources

    fetched = fetch_sources(args.raw_dir, mirror=args.mirror, timeout=args.timeout)
    for path, status in fetched:
        print(f"  {status:<10} {path}")
    return 0
