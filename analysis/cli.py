"""Command line: ``python -m analysis data build|check|fetch``, ``report``, ``notebooks``.

Each command module registers its own sub-commands, so this file only wires them up and turns
expected failures (bad input, bad parameters) into one clear line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import traceback
from collections.abc import Sequence

from analysis.errors import DataError, OutputError, ParameterError, shorten


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every sub-command registered."""
    from analysis import datacli, report

    parser = argparse.ArgumentParser(
        prog="python -m analysis",
        description="Reproducible analysis of violence in London: build the data, run the report.",
    )
    parser.add_argument("--debug", action="store_true", help="show a traceback on errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    datacli.register(commands)
    report.register(commands)
    return parser


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
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM: stop like Ctrl-C, so every command removes its temporary files on the way out."""
    raise KeyboardInterrupt
