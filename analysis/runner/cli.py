"""Command line: ``python -m analysis report``, ``notebooks`` and ``data build|check|fetch``.

Expected failures (bad input, bad parameters, a folder that may not be replaced) are one line on
stderr and exit code 2; a failed notebook or an unwritable folder exit code 1; Ctrl-C and SIGTERM
exit 130 after cleaning up. Nothing heavy is imported before the arguments are checked.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import threading
import traceback
from collections.abc import Sequence
from pathlib import Path

from analysis.core.errors import DataError, OutputError, ParameterError, ReportError, shorten

DEFAULT_TIMEOUT = 1800  # seconds per cell (kept in step with analysis.runner.report)


def _year_arg(text: str) -> str:
    if text.lower() == "all" or re.fullmatch(r"\d{4}", text):
        return text.lower()
    raise argparse.ArgumentTypeError(f"expected a year such as 2025, or 'all'; got {shorten(repr(text))}")


def _jobs() -> int:
    return os.cpu_count() or 1


def _run_options(parser: argparse.ArgumentParser, *, engine_default: str | None) -> None:
    parser.add_argument("--notebooks", default=None, metavar="DIR",
                        help="folder of the notebooks to run (default: the project's notebooks/)")
    parser.add_argument("--jobs", "-j", type=int, default=_jobs(), metavar="N",
                        help=f"how many notebooks run at once (default: the number of processors, {_jobs()} here)")
    parser.add_argument("--engine", choices=("fork", "spawn"), default=engine_default,
                        help="how each notebook's kernel starts: 'fork' copies a kernel that has already "
                             "loaded the analysis (fast; Linux only), 'spawn' starts a normal Jupyter kernel "
                             f"(default: {engine_default or 'fork on Linux, spawn elsewhere'})")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                        help=f"stop a notebook cell that runs longer than this (default {DEFAULT_TIMEOUT})")
    parser.add_argument("--no-progress", action="store_true", help="print no progress while running")
    parser.add_argument("--timings", action="store_true", help="print where the time went, per notebook")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command registered."""
    from analysis.runner import data_commands

    parser = argparse.ArgumentParser(
        prog="python -m analysis",
        description="Reproducible analysis of violence in London: build the data, run the report.",
    )
    parser.add_argument("--debug", action="store_true", help="show a traceback on errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    report = commands.add_parser(
        "report",
        help="run every notebook for a year and an area, and build the HTML report",
        description=(
            "Run every notebook for each year and area asked for, and write for each a folder with "
            "the executed notebooks, a web page per notebook (with and without the code), index.html, "
            "figures/, tables/, claims.csv and run.json. Default folder: reports/<area>/<year>/ under "
            "the current directory. Several years or areas run in parallel. A report is replaced only "
            "when all its notebooks succeed, and only a folder that is empty or holds an earlier report."
        ),
    )
    report.add_argument("--year", nargs="+", type=_year_arg, metavar="YEAR",
                        help="the year(s) to report on, or 'all' for every year the data cover "
                             "(default: the area's latest whole year)")
    report.add_argument("--area", nargs="+", default=None, metavar="AREA",
                        help="London, or a London borough by its ONS name, e.g. Hackney (default London)")
    report.add_argument("--base-year", type=int, default=None, metavar="YEAR",
                        help="the year to compare with (default: the year before)")
    report.add_argument("--out", default=None, metavar="DIR",
                        help="the report's folder (with several years or areas: the folder above their "
                             "<area>/<year>/ folders); may contain {area}, {year} and {base_year}")
    report.add_argument("--svg", action="store_true", help="save every chart as SVG too (slower)")
    report.add_argument("--no-data-check", action="store_true",
                        help="do not check the year and area against the data (for notebooks that do "
                             "not use it, such as the test fixtures)")
    _run_options(report, engine_default=None)
    report.set_defaults(func=_cmd_report)

    nbs = commands.add_parser(
        "notebooks",
        help="re-run the committed notebooks in place with their default parameters",
        description=(
            "Re-run notebooks/[0-9][0-9]_*.ipynb (or the given files) top to bottom with their default "
            "parameters, in a fresh kernel started in the notebook's folder (as nbval does), and save "
            "them so that re-running gives byte-identical files."
        ),
    )
    nbs.add_argument("paths", nargs="*", metavar="NOTEBOOK", help="notebooks to re-run (default: all)")
    nbs.add_argument("--check", action="store_true", help="write nothing; exit 1 if any notebook would change")
    _run_options(nbs, engine_default="spawn")
    nbs.set_defaults(func=_cmd_notebooks)

    data_commands.register(commands)
    return parser


def _notebook_list(folder: str | None) -> list[Path]:
    from analysis.runner.report import NOTEBOOK_PATTERN, find_notebooks

    found = find_notebooks(folder)
    if not found:
        raise ReportError(f"no notebooks matching {NOTEBOOK_PATTERN} in {folder or 'notebooks/'}")
    return found


def _print_timings(outcome: object) -> None:
    results = getattr(outcome, "results", [])
    keys = sorted({k for r in results for k in r.timings})
    print("timings (s): notebook  " + "  ".join(keys), file=sys.stderr)
    for r in sorted(results, key=lambda r: (r.index, r.stem)):
        print(f"  {r.stem} [{r.index}]  " + "  ".join(f"{r.timings.get(k, float('nan')):.2f}" for k in keys), file=sys.stderr)


def _cmd_report(args: argparse.Namespace) -> int:
    from analysis.runner import report

    skipped: list[str] = []
    sets = report.resolve_param_sets(args.year, args.area, args.base_year, data_check=not args.no_data_check,
                                     skipped=skipped)
    for note in skipped:
        print(f"skipped {note}", file=sys.stderr)
    notebooks = _notebook_list(args.notebooks)
    if args.out is None:
        print(f"writing to reports/<area>/<year>/ under {os.getcwd()} (change with --out)", file=sys.stderr)
    outcome = report.run_reports(sets, notebooks=notebooks, out=args.out, jobs=args.jobs, engine=args.engine,
                                 timeout=args.timeout, progress=not args.no_progress, svg=args.svg)
    for path in outcome.published:
        print(report.display_path(path / "index.html"))
    if args.timings:
        _print_timings(outcome)
    if outcome.failures:
        print(f"{len(outcome.failures)} report(s) failed; previous reports were left untouched:", file=sys.stderr)
        for message in outcome.failures:
            print(f"  {message}", file=sys.stderr)
    print(f"{len(outcome.published)} report(s), {len(outcome.results)} notebook run(s) in {outcome.seconds:.1f} s",
          file=sys.stderr)
    return outcome.exit_code


def _cmd_notebooks(args: argparse.Namespace) -> int:
    from analysis.runner import report

    notebooks = [Path(p) for p in args.paths] if args.paths else _notebook_list(args.notebooks)
    outcome = report.rerun_notebooks(notebooks, jobs=args.jobs, engine=args.engine, timeout=args.timeout,
                                     check=args.check, progress=not args.no_progress)
    for message in outcome.failures:
        print(f"error: {message}", file=sys.stderr)
    if args.timings:
        _print_timings(outcome)
    return outcome.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code (0 success, 2 bad input, 1 other failure)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _interrupt) if threading.current_thread() is threading.main_thread() else None
    try:
        return int(args.func(args) or 0)
    except (DataError, ParameterError, OutputError) as exc:
        if args.debug:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a folder that cannot be written, a full disk: one line, not a traceback
        if args.debug:
            traceback.print_exc()
        where = f": {shorten(exc.filename)}" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    except ReportError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM: stop like Ctrl-C, so every command removes its temporary files on the way out."""
    raise KeyboardInterrupt
